x1 = partition(I)
x2 = argmin(x1, size)
O = subgrid(x2, I)
