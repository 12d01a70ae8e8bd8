"""Every rendering of results: for people, for machines, for the terminal.

`render` fills the Jinja2 templates beside it (a page per student and one for the class);
`text` is the plain-text rendering shared by all of them; `svg` draws the inline charts;
`exports` writes the files other systems read (Gradescope's results.json, grades.csv,
Canvas and Moodle imports, class.json); `summary` is the table printed after a run.
Nothing is imported here, so `exports` can use `text` without pulling in Jinja2 and the
templates.
"""
