x1 = dmirror(I)
x2 = rbind(order, positive)
x3 = apply(x2, x1)
O = dmirror(x3)
