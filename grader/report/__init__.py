"""HTML reports for people: a page per student and one for the class.

`render` fills the Jinja2 templates beside it; `text` is the plain-text rendering shared
with the JSON exports and the terminal; `svg` draws the inline charts. Nothing is imported
here, so `grader.exports` can use `text` without pulling in Jinja2 and the templates.
"""
