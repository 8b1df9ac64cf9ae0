//! The accounts section of docs/BENCHMARKS.md: logins and refreshes per second, and the private
//! list's p99 alone and during a login storm, with the target that the storm at most doubles it.

use std::fmt::Write as _;

use super::{HttpRun, ms, ratio, thousands};

/// The private list's p99 during a login storm may be at most this many times its p99 without.
pub(in crate::bench) const TARGET_STORM_P99_RATIO: f64 = 2.0;

/// The account figures, measured on a second project with its users collection.
#[derive(Debug, Clone, Default)]
pub(in crate::bench) struct Accounts {
    /// Users signed up over HTTP before the runs, and how long that took.
    pub(in crate::bench) users: usize,
    pub(in crate::bench) signup_seconds: f64,
    /// The server's password hash concurrency (its default, in every account run).
    pub(in crate::bench) hash_concurrency: usize,
    /// wrk connections of the login runs, alone and as a storm.
    pub(in crate::bench) login_connections: u32,
    /// wrk connections of the private list runs.
    pub(in crate::bench) list_connections: u32,
    /// Refresh driver threads.
    pub(in crate::bench) refresh_clients: usize,
    pub(in crate::bench) logins: HttpRun,
    pub(in crate::bench) refreshes: HttpRun,
    pub(in crate::bench) refresh_first_error: Option<String>,
    /// The private list of 20 (RLS on) alone and during a login storm, and that storm.
    pub(in crate::bench) list_alone: HttpRun,
    pub(in crate::bench) list_storm: HttpRun,
    pub(in crate::bench) storm_logins: HttpRun,
}

impl Accounts {
    /// The list's p99 during the storm over its p99 alone.
    pub(in crate::bench) fn storm_ratio(&self) -> f64 {
        ratio(self.list_storm.measured.p99_ms, self.list_alone.measured.p99_ms)
    }

    /// The runs, as the report names them, with the load that made them.
    fn runs(&self) -> [(&'static str, String, &HttpRun); 5] {
        let logins = format!("wrk, {} connections", self.login_connections);
        let list = format!("wrk, {} connections", self.list_connections);
        [
            ("logins", logins.clone(), &self.logins),
            ("refreshes", format!("{} client threads, keep-alive", self.refresh_clients), &self.refreshes),
            ("private list of 20, RLS on, alone", list.clone(), &self.list_alone),
            ("private list of 20, RLS on, during a login storm", list, &self.list_storm),
            ("logins of the storm", logins, &self.storm_logins),
        ]
    }

    /// The storm target: its statement, whether it holds, and the measured figure.
    pub(super) fn target(&self) -> (String, bool, String) {
        let (alone, storm) = (&self.list_alone.measured, &self.list_storm.measured);
        (
            format!(
                "private list of 20 (RLS on): p99 during a login storm within {TARGET_STORM_P99_RATIO:.0}× of its p99 \
                 without"
            ),
            self.holds() && alone.error_share() < 0.01 && storm.error_share() < 0.01,
            format!(
                "{} without, {} during the storm: {:.2}× (the storm: {:.0} logins/s)",
                ms(alone.p99_ms),
                ms(storm.p99_ms),
                self.storm_ratio(),
                self.storm_logins.measured.rps(),
            ),
        )
    }

    fn holds(&self) -> bool {
        self.storm_ratio() > 0.0 && self.storm_ratio() <= TARGET_STORM_P99_RATIO
    }

    /// Errors of every account run.
    pub(in crate::bench) fn errors(&self) -> u64 {
        self.runs().iter().map(|(_, _, run)| run.measured.status_errors + run.measured.socket_errors).sum()
    }

    /// The accounts section.
    pub(super) fn render(&self, md: &mut String, seconds: u64) {
        let _ = writeln!(md, "\n## Accounts\n");
        let _ = writeln!(
            md,
            "A second project, created with its users collection; {} users signed up over HTTP first ({:.1} s). \
             The same server, with the account limits off (see its flags above); the password hash concurrency is \
             its default, **{}**: at most {} argon2id hashes at once (19 MiB and about 20 ms of one core each), \
             further logins wait. Each run lasts {seconds} s after a sanity request and a warm-up.\n",
            thousands(self.users as f64),
            self.signup_seconds,
            self.hash_concurrency,
            self.hash_concurrency,
        );
        let _ = writeln!(
            md,
            "- logins: wrk POSTs `/login`, cycling through the users' credentials;\n\
             - refreshes: wrk cannot chain tokens (each is single use, and a second use revokes its family), so \
             `xtask/src/bench/refresh.rs` runs {} threads, each logging in once in header mode and then \
             refreshing over its own keep-alive connection with the token the previous answer returned; \
             any answer but 200 with a new token is an error;\n\
             - the private list of 20 with RLS on, alone, then with a login storm (a second wrk on `/login` of \
             the accounts project) running the whole time, in the order alone, storm, storm, alone, each side \
             reported as its two runs combined.\n",
            self.refresh_clients,
        );
        let _ = writeln!(md, "| Run | Request | Load | req/s | p50 | p99 | errors | max RSS (anon) |");
        let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|---:|");
        for (name, load, run) in self.runs() {
            let _ = writeln!(md, "| {name} | {} | {load} | {} |", run.how, run.cells());
        }
        let _ = writeln!(
            md,
            "\nLogins: **{:.0}/s** with {} hashes at once; refreshes: **{}/s**. The private list's p99: {} alone, {} during \
             the storm ({:.0} logins/s): **{:.2}×** (target: within {TARGET_STORM_P99_RATIO:.0}×, {}).",
            self.logins.measured.rps(),
            self.hash_concurrency,
            thousands(self.refreshes.measured.rps()),
            ms(self.list_alone.measured.p99_ms),
            ms(self.list_storm.measured.p99_ms),
            self.storm_logins.measured.rps(),
            self.storm_ratio(),
            if self.holds() { "holds" } else { "**misses**" },
        );
        match (self.errors(), &self.refresh_first_error) {
            (0, _) => {
                let _ = writeln!(md, "No account run had an error.");
            }
            (n, first) => {
                let first = first.as_deref().map(|e| format!(" First refresh error: `{e}`.")).unwrap_or_default();
                let _ = writeln!(md, "**{n} errors in the account runs.**{first}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::wrk::Measured;

    fn run(requests: u64, p99_ms: f64) -> HttpRun {
        let measured = Measured { requests, seconds: 10.0, p50_ms: 1.0, p99_ms, ..Measured::default() };
        HttpRun { how: "`POST /x`".to_owned(), measured, ..HttpRun::default() }
    }

    fn figures(alone_p99: f64, storm_p99: f64) -> Accounts {
        Accounts {
            users: 200,
            hash_concurrency: 2,
            login_connections: 50,
            list_connections: 100,
            refresh_clients: 50,
            logins: run(600, 900.0),
            refreshes: run(20_000, 40.0),
            list_alone: run(50_000, alone_p99),
            list_storm: run(30_000, storm_p99),
            storm_logins: run(500, 1200.0),
            ..Accounts::default()
        }
    }

    #[test]
    fn the_storm_target_compares_p99s() {
        let (statement, holds, measured) = figures(20.0, 39.0).target();
        assert!(statement.contains("within 2×") && holds, "{measured}");
        assert!(measured.contains("1.95×") && measured.contains("50 logins/s"), "{measured}");
        assert!(!figures(20.0, 41.0).target().1);
        assert!(!figures(0.0, 41.0).target().1);
        let mut failing = figures(20.0, 21.0);
        failing.list_storm.measured.status_errors = 1_000;
        assert!(!failing.target().1);
    }

    #[test]
    fn the_section_reports_rates_and_errors() {
        let mut md = String::new();
        figures(20.0, 50.0).render(&mut md, 10);
        assert!(md.contains("Logins: **60/s** with 2 hashes at once; refreshes: **2,000/s**"), "{md}");
        assert!(md.contains("**2.50×** (target: within 2×, **misses**)"), "{md}");
        assert!(md.contains("No account run had an error."));
        let mut broken = figures(20.0, 30.0);
        broken.refreshes.measured.status_errors = 3;
        broken.refresh_first_error = Some("refresh answered 401: revoked".to_owned());
        let mut md = String::new();
        broken.render(&mut md, 10);
        assert!(md.contains("**3 errors in the account runs.** First refresh error: `refresh answered 401: revoked`."));
    }
}
