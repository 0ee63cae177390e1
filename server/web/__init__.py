"""Server-rendered pages for people: login, diaries, class views, reports (Russian, no JS)."""
