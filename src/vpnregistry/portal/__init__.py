"""The pages people use: templates, static files and views, in English and Urdu."""
