x1 = lefthalf(I)
x2 = righthalf(I)
x3 = cellwise(x1, x2, ZERO)
O = replace(x3, ONE, TWO)
