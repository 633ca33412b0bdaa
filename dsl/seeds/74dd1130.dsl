O = dmirror(I)
