x1 = vmirror(I)
O = hconcat(I, x1)
