"""The web console (issue 17; docs/console.md): server-rendered pages on the
API's port, signed in with a console session cookie, acting only through the
same services and role checks as the API."""
