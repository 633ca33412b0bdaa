x1 = ofcolor(I, ONE)
x2 = shift(x1, TWO_BY_ZERO)
x3 = fill(I, ZERO, x1)
O = fill(x3, ONE, x2)
