"""localdcos: a faithful local DC/OS (Marathon v2, ACS auth, images) for development and tests."""
