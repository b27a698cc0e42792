//! The `Age` header on figures served from what the engine published while it was busy
//! (see [`crate::engine::published`]): present only then, in whole seconds as HTTP has it,
//! so a client can tell a cached view from a fresh one.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponseParts, ResponseParts};

use crate::engine::published::Observed;

/// How fresh a response's figures are.
/// Ordered by age: fresh figures first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Freshness(Option<Duration>);

impl Freshness {
    /// The freshness of `observed`.
    pub fn of<T>(observed: &Observed<T>) -> Freshness {
        Freshness(observed.age)
    }
}

impl IntoResponseParts for Freshness {
    type Error = Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Infallible> {
        if let Some(age) = self.0 {
            parts
                .headers_mut()
                .insert(header::AGE, HeaderValue::from(age.as_secs()));
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use std::sync::Arc;

    fn age_of(age: Option<Duration>) -> Option<String> {
        let observed = Observed {
            value: Arc::new(()),
            age,
        };
        let response = (Freshness::of(&observed), "body").into_response();
        response
            .headers()
            .get(header::AGE)
            .map(|v| v.to_str().expect("ascii").to_owned())
    }

    #[test]
    fn only_published_figures_carry_an_age() {
        assert_eq!(age_of(None), None);
        assert_eq!(
            age_of(Some(Duration::from_millis(300))).as_deref(),
            Some("0")
        );
        assert_eq!(
            age_of(Some(Duration::from_millis(2500))).as_deref(),
            Some("2")
        );
    }
}
