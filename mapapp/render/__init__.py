"""Everything that turns data into map or page markup, escaped in one place.

- :mod:`mapapp.render.text`: escaping for Markdown, HTML/JavaScript/Jinja2, plain text;
- :mod:`mapapp.render.cards`: search results as cards and resource sheets;
- :mod:`mapapp.render.search_map`: the search results map (folium);
- :mod:`mapapp.render.choropleth`: the coverage map (folium);
- :mod:`mapapp.render.sheet`: a plan as a printable A4 PDF (fpdf2, QR codes with segno).

Pure modules (no Streamlit): the pages only lay out what they return.  This
package imports nothing eagerly, so a page loads only the renderer it uses.
"""
