O = replace(I, SEVEN, FIVE)
