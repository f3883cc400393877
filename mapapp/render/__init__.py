"""Everything that turns data into something to show or print (page markup, maps, the PDF sheet)."""
