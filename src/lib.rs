#[macro_use]
extern crate napi_derive;

#[napi]
pub fn ping() -> String {
    "pong".to_string()
}
