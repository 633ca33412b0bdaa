O = hconcat(I, I)
