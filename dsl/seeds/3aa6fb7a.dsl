x1 = objects(I, T, F, T)
x2 = mapply(delta, x1)
O = fill(I, ONE, x2)
