O = rot180(I)
