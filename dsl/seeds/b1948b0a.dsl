O = replace(I, SIX, TWO)
