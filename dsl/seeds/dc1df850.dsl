x1 = ofcolor(I, TWO)
x2 = mapply(neighbors, x1)
O = underfill(I, ONE, x2)
