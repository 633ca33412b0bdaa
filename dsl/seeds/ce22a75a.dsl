x1 = ofcolor(I, FIVE)
x2 = mapply(neighbors, x1)
x3 = combine(x1, x2)
O = fill(I, ONE, x3)
