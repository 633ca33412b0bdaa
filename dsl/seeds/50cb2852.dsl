x1 = objects(I, T, F, T)
x2 = fork(difference, backdrop, box)
x3 = mapply(x2, x1)
O = fill(I, EIGHT, x3)
