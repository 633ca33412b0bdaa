x1 = frontiers(I)
x2 = colorfilter(x1, ZERO)
x3 = merge(x2)
O = fill(I, TWO, x3)
