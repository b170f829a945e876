//! Where a tick's time goes: wall-clock time per [`SimSet`], for `qtwin bench --sets`.
//!
//! [`SetTimes::install`] adds one stamp system before the first set and one between every two
//! neighbouring sets of the chain (and after the last); each stamp charges the time since the
//! previous one to the set that just ran. The stamps read only the wall clock and write only
//! [`SetTimes`], so a timed run computes the same bits as an untimed one (the single-threaded
//! executor runs them in the chain's order). Systems outside every set (none in the simulation's
//! own plugins) would be charged to whichever set they happen to run after.

use bevy::platform::time::Instant;
use bevy::prelude::*;

use crate::base::SimSet;

/// Time spent in each set of the tick, summed over the ticks run since [`SetTimes::install`].
#[derive(Resource, Debug, Default, Clone)]
pub struct SetTimes {
    last: Option<Instant>,
    /// Nanoseconds per set, in [`SimSet::ALL`]'s order.
    pub ns: [u64; SimSet::ALL.len()],
    /// Ticks timed (stamps of the last set seen).
    pub ticks: u64,
}

impl SetTimes {
    /// Adds the stamps to `app`'s `FixedUpdate` and the resource that collects them.
    pub fn install(app: &mut App) {
        app.init_resource::<SetTimes>();
        app.add_systems(FixedUpdate, start.before(SimSet::ALL[0]));
        macro_rules! stamps {
            ($($i:literal)*) => {$(
                {
                    let s = stamp::<$i>.after(SimSet::ALL[$i]);
                    if $i + 1 < SimSet::ALL.len() {
                        app.add_systems(FixedUpdate, s.before(SimSet::ALL[($i + 1) % SimSet::ALL.len()]));
                    } else {
                        app.add_systems(FixedUpdate, s);
                    }
                }
            )*};
        }
        stamps!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
    }

    /// Total time charged to all sets, s.
    pub fn total_s(&self) -> f64 {
        self.ns.iter().sum::<u64>() as f64 * 1e-9
    }

    /// The sets with their mean time per tick, µs, in tick order.
    pub fn per_tick_us(&self) -> Vec<(SimSet, f64)> {
        let n = self.ticks.max(1) as f64;
        SimSet::ALL
            .iter()
            .zip(self.ns)
            .map(|(&s, ns)| (s, ns as f64 * 1e-3 / n))
            .collect()
    }

    /// A table: one line per set (µs a tick, share of the tick), the largest marked.
    pub fn table(&self) -> String {
        let rows = self.per_tick_us();
        let total: f64 = rows.iter().map(|r| r.1).sum();
        let mut out = format!(
            "  {:<12} {:>10} {:>7}   ({} ticks, {:.1} µs a tick in the sets)\n",
            "set", "µs/tick", "share", self.ticks, total
        );
        for (s, us) in rows {
            out += &format!(
                "  {:<12} {:>10.1} {:>6.1}%\n",
                format!("{s:?}"),
                us,
                100.0 * us / total.max(1e-12)
            );
        }
        out
    }
}

fn start(mut t: ResMut<SetTimes>) {
    t.last = Some(Instant::now());
}

fn stamp<const I: usize>(mut t: ResMut<SetTimes>) {
    let now = Instant::now();
    if let Some(last) = t.last {
        t.ns[I] += now.duration_since(last).as_nanos() as u64;
    }
    t.last = Some(now);
    if I + 1 == SimSet::ALL.len() {
        t.ticks += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RunOptions, Simulation};

    /// The stamps run in the chain's order (a wrong order would be a cycle, which bevy refuses),
    /// every tick is counted, the sets that do work are charged time, and timing changes no bit
    /// of the run.
    #[test]
    fn set_times_cover_the_tick_and_change_nothing() {
        let scene = crate::scene::load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
        let mut plain = Simulation::new(&scene, &RunOptions::default()).unwrap();
        let mut timed = Simulation::new(&scene, &RunOptions::default()).unwrap();
        SetTimes::install(&mut timed.app);
        plain.run_ticks(120);
        timed.run_ticks(120);
        let t = timed.res::<SetTimes>();
        assert_eq!(t.ticks, 120);
        let us: std::collections::HashMap<_, _> = t.per_tick_us().into_iter().collect();
        for s in [
            SimSet::Demand,
            SimSet::Hydraulics,
            SimSet::Thermal,
            SimSet::Ledger,
        ] {
            assert!(us[&s] > 0.0, "{s:?} charged no time");
        }
        assert!(t.total_s() > 0.0);
        assert!(t.table().contains("Thermal"));
        use crate::ledger::report::Report;
        assert_eq!(
            Report::from_sim(&plain).to_json(),
            Report::from_sim(&timed).to_json()
        );
    }
}
