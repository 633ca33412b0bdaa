x1 = palette(I)
x2 = other(x1, FIVE)
x3 = replace(I, x2, ZERO)
O = replace(x3, FIVE, x2)
