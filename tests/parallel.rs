//! Issue 16: a city large enough for every parallel path of the tick (the parts' thermal passes,
//! the parts' hydraulic tree passes, the pipes' pressure drops and water properties, the
//! buildings' demand and the substations' passes on rayon) gives
//! bit-identical reports in pools of 1, 2, 4 and 16 threads (more threads than this machine's cores:
//! the chunks, not the threads, fix the arithmetic).

use qtwin::generate::{GenerateOptions, generate_city};
use qtwin::ledger::report::Report;
use qtwin::sim::{RunOptions, Simulation};

#[test]
fn a_city_of_many_networks_is_bit_identical_for_1_2_4_and_16_threads() {
    let buildings = qtwin::demand::PARALLEL_CONSUMERS_FROM.max(50_000);
    let scene = generate_city(&GenerateOptions {
        buildings,
        sites: 3,
        seed: 11,
    });
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut sim = Simulation::new(&scene, &RunOptions::default()).unwrap();
            sim.run_ticks(40);
            let net = sim.res::<qtwin::network::Network>();
            // Several independent networks (parts), each with its own station.
            let parts = net.component_root.iter().filter(|r| r.is_some()).count();
            let th = sim.res::<qtwin::thermal::ThermalState>();
            let hs = sim.res::<qtwin::hydraulics::HydraulicState>();
            let bits: Vec<u64> = th
                .supply_node_temp_c
                .iter()
                .chain(&th.return_node_temp_c)
                .chain(&hs.pipe_flow_kg_s)
                .chain(&hs.supply_pressure_pa)
                .chain(&hs.return_pressure_pa)
                .map(|t| t.to_bits())
                .collect();
            (
                Report::from_sim(&sim).to_json(),
                bits,
                parts,
                net.pipe_count(),
            )
        })
    };
    let (r1, t1, parts, pipes) = run(1);
    assert!(parts >= 20, "{parts} networks");
    assert!(pipes >= 5_000, "{pipes} pipes");
    let report: serde_json::Value = serde_json::from_str(&r1).unwrap();
    let delivered = report["kpis"]["heat_delivered_kwh"].as_f64().unwrap();
    assert!(delivered > 1e3, "{delivered} kWh in 40 minutes");
    for threads in [2, 4, 16] {
        let (r, t, _, _) = run(threads);
        assert_eq!(r, r1, "report with {threads} threads");
        assert!(
            t == t1,
            "node temperatures, flows and pressures with {threads} threads"
        );
    }
}
