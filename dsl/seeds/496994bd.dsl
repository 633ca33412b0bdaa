x1 = tophalf(I)
x2 = hmirror(x1)
O = vconcat(x1, x2)
