//! The conformance suite: the same cases, with the same expected results, for every backend.
//! It arrives with the SQLite and MongoDB backends (the data-plane issue).
