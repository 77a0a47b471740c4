//! Waiting for something outside ark to change (a namespace to finish terminating, a CRD to
//! become Established, a volume to become available, snapshots to complete): the same rules
//! for every wait, a deadline and a pause between looks.
//!
//! A wait is a loop of the caller's (look; stop if found; `again`), rather than a function
//! taking the look as a closure: a closure borrowing the caller's state would make the
//! backup's future unprovably `Send`, and the daemon spawns backups as tasks.

use std::time::Duration;

use tokio::time::Instant;

/// The pause between two looks: `first`, doubled after each look up to `max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pauses {
    first: Duration,
    max: Duration,
}

impl Pauses {
    /// The same pause every time.
    pub(crate) const fn steady(pause: Duration) -> Self {
        Self { first: pause, max: pause }
    }

    /// A pause that doubles after each look, up to `max`: for waits that can be long, where
    /// each look costs an API call.
    pub(crate) const fn doubling(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }
}

/// One wait under way.
#[derive(Debug)]
pub(crate) struct Polling {
    deadline: Instant,
    pause: Duration,
    max: Duration,
}

impl Polling {
    /// A wait of at most `timeout`, from now.
    pub(crate) fn new(timeout: Duration, pauses: Pauses) -> Self {
        Self { deadline: Instant::now() + timeout, pause: pauses.first, max: pauses.max }
    }

    /// Pauses before the next look; false, at once, when the deadline has passed and there is
    /// to be no next look. The last pause ends at the deadline, so the last look is made then.
    pub(crate) async fn again(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = (self.pause * 2).min(self.max);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_up_to_their_limit_and_the_last_look_is_at_the_deadline() {
        let started = Instant::now();
        let mut polling =
            Polling::new(Duration::from_secs(12), Pauses::doubling(Duration::from_secs(1), Duration::from_secs(4)));
        let mut looks = vec![started.elapsed().as_secs()];
        while polling.again().await {
            looks.push(started.elapsed().as_secs());
        }
        assert_eq!(looks, [0, 1, 3, 7, 11, 12]);

        let started = Instant::now();
        let mut polling = Polling::new(Duration::from_millis(500), Pauses::steady(Duration::from_millis(200)));
        let mut looks = 1;
        while polling.again().await {
            looks += 1;
        }
        assert_eq!((looks, started.elapsed()), (4, Duration::from_millis(500)));
    }
}
