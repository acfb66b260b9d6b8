//! A bandwidth limit on writes to any backend, so that a backup does not fill the
//! ward's network link.
