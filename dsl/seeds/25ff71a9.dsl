x1 = fgpartition(I)
x2 = merge(x1)
O = move(I, x2, DOWN)
