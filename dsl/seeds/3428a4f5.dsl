x1 = tophalf(I)
x2 = bottomhalf(I)
x3 = cellwise(x1, x2, THREE)
O = replace(x3, TWO, ZERO)
