//! Storage engines. Embedded ones implement the sync `Backend` trait.
