x1 = objects(I, T, F, T)
x2 = mapply(delta, x1)
x3 = replace(I, TWO, ZERO)
O = fill(x3, THREE, x2)
