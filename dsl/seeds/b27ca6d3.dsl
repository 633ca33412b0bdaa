x1 = objects(I, T, F, T)
x2 = sizefilter(x1, TWO)
x3 = mapply(outbox, x2)
O = underfill(I, THREE, x3)
