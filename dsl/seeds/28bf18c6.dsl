x1 = fgpartition(I)
x2 = merge(x1)
x3 = subgrid(x2, I)
O = hconcat(x3, x3)
