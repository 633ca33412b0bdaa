x1 = objects(I, F, T, T)
x2 = merge(x1)
x3 = subgrid(x2, I)
O = replace(x3, ONE, ZERO)
