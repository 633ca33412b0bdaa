x1 = objects(I, T, T, T)
x2 = mapply(delta, x1)
O = fill(I, TWO, x2)
