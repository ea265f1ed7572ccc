//! `cacheDuration`: how long the kubelet may keep the credentials.
//!
//! Upstream's `getCacheDuration`: no expiry → `0s`; otherwise half the remaining lifetime in
//! whole seconds (`(expiresAt.Unix() - now.Unix()) / 2`); when that is not positive the field
//! is omitted, so the kubelet falls back to `defaultCacheDuration` (typically 12 h) and keeps
//! an already-expired token for hours.
//!
//! kcred keeps the halving and changes the two unsafe ends:
//! - not positive (expired, or expiring within 2 s) → `0s`: the kubelet does not cache it;
//! - more than [`MAX_CACHE_DURATION`] (an expiry beyond ECR's 12 h token lifetime: a skewed
//!   clock or a misbehaving endpoint) → capped at [`MAX_CACHE_DURATION`], half of 12 h.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kcred_api::GoDuration;

/// The longest `cacheDuration` returned: half of ECR's 12-hour token lifetime.
pub(crate) const MAX_CACHE_DURATION: Duration = Duration::from_secs(6 * 3600);

/// The `cacheDuration` for a token expiring at `expires_at`, seen at `now`.
pub fn cache_duration(expires_at: Option<SystemTime>, now: SystemTime) -> GoDuration {
    let Some(expires_at) = expires_at else {
        return GoDuration(0);
    };
    let half = (unix_seconds(expires_at).saturating_sub(unix_seconds(now))) / 2;
    let max = MAX_CACHE_DURATION.as_secs() as i64;
    let seconds = half.clamp(0, max);
    GoDuration(seconds * 1_000_000_000)
}

/// Go `Time.Unix()`: whole seconds since the epoch, floored.
fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let before = e.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -secs.saturating_add(1)
            } else {
                -secs
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: GoDuration) -> i64 {
        d.0 / 1_000_000_000
    }

    #[test]
    fn halves_in_whole_seconds() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_900);
        let exp = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + 12 * 3_600_000 + 100);
        // Unix() truncation: 1_700_043_200 - 1_700_000_000 = 43200 → 21600.
        assert_eq!(secs(cache_duration(Some(exp), now)), 21_600);
        let exp = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 43_199);
        assert_eq!(secs(cache_duration(Some(exp), now)), 21_599);
    }

    #[test]
    fn unsafe_ends() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(cache_duration(None, now), GoDuration(0));
        assert_eq!(cache_duration(Some(UNIX_EPOCH), now), GoDuration(0));
        assert_eq!(
            cache_duration(Some(now + Duration::from_secs(1)), now),
            GoDuration(0)
        );
        let far = now + Duration::from_secs(400 * 24 * 3600);
        assert_eq!(secs(cache_duration(Some(far), now)), 6 * 3600);
    }

    #[test]
    fn before_epoch_floors() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(1500)), -2);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }
}
