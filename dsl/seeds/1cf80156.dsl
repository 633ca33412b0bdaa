x1 = fgpartition(I)
x2 = merge(x1)
O = subgrid(x2, I)
