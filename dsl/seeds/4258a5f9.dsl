x1 = ofcolor(I, FIVE)
x2 = mapply(neighbors, x1)
O = underfill(I, ONE, x2)
