//! Standard status conditions (`metav1.Condition`) and the rules for updating them.
//!
//! A condition's `lastTransitionTime` only moves when its status flips, so recomputing the same
//! conditions yields the same status and the controller writes nothing (no self-triggering).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";
pub const ISSUING: &str = "Issuing";

/// A condition as a reconcile computes it, before transition times are carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub type_: &'static str,
    pub status: bool,
    pub reason: String,
    pub message: String,
}

impl Cond {
    pub fn new(
        type_: &'static str,
        status: bool,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Cond {
            type_,
            status,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

fn status_str(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Turn computed conditions into API conditions. A condition whose status did not change keeps
/// its previous `lastTransitionTime`; one that did gets `now`.
pub fn merge(
    previous: &[Condition],
    computed: &[Cond],
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    computed
        .iter()
        .map(|c| {
            let status = status_str(c.status);
            let last = previous
                .iter()
                .find(|p| p.type_ == c.type_ && p.status == status)
                .map(|p| p.last_transition_time.clone())
                .unwrap_or_else(|| now.clone());
            Condition {
                type_: c.type_.to_owned(),
                status: status.to_owned(),
                reason: c.reason.clone(),
                message: truncate(&c.message, 1024),
                observed_generation: generation,
                last_transition_time: last,
            }
        })
        .collect()
}

/// Find a condition by type.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether a condition of that type is `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Conditions whose status or reason differs between two lists (what an event is published for).
pub fn transitions<'a>(previous: &[Condition], next: &'a [Condition]) -> Vec<&'a Condition> {
    next.iter()
        .filter(|n| {
            !previous
                .iter()
                .any(|p| p.type_ == n.type_ && p.status == n.status && p.reason == n.reason)
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first = merge(
            &[],
            &[Cond::new(READY, false, "Pending", "waiting")],
            Some(1),
            &t(10),
        );
        assert_eq!(first[0].last_transition_time, t(10));
        // same status, new reason and message: time kept
        let second = merge(
            &first,
            &[Cond::new(READY, false, "Other", "still waiting")],
            Some(2),
            &t(20),
        );
        assert_eq!(second[0].last_transition_time, t(10));
        assert_eq!(second[0].observed_generation, Some(2));
        let third = merge(
            &second,
            &[Cond::new(READY, true, "Available", "ok")],
            Some(2),
            &t(30),
        );
        assert_eq!(third[0].last_transition_time, t(30));
        assert_eq!(third[0].status, "True");
    }

    #[test]
    fn recomputing_the_same_conditions_is_a_fixed_point() {
        let c = [
            Cond::new(READY, true, "Available", "ok"),
            Cond::new(DEGRADED, false, "AsExpected", ""),
        ];
        let a = merge(&[], &c, Some(3), &t(1));
        let b = merge(&a, &c, Some(3), &t(99));
        assert_eq!(a, b);
        assert!(transitions(&a, &b).is_empty());
        assert_eq!(transitions(&[], &a).len(), 2);
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let m = "é".repeat(1000);
        let out = merge(&[], &[Cond::new(READY, false, "X", m)], None, &t(1));
        assert!(out[0].message.len() <= 1024);
        assert!(out[0].message.chars().all(|c| c == 'é'));
    }
}
