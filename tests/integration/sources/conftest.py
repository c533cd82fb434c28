"""Evidence sources against their real servers. Each kind keeps its fixtures in its
own module under tests/support/ and imports them in its test module."""
