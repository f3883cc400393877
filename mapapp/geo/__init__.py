"""Reference geography (communes, postcodes) and geodesy helpers."""
