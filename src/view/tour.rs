//! The guided tour of the public demo (`?demo` in the browser, `qtwin view --demo`, or the
//! "Guided tour" button): nine steps, each a camera move, a map layer and a short caption in plain
//! language with one large live number from the running simulation. It loops (a kiosk), and any
//! key, click, wheel or touch hands the city back to the visitor; in demo mode it starts again
//! after [`KIOSK_IDLE_S`] without input.
//!
//! The numbers are read from the simulation every frame: nothing in a caption is a constant.

use bevy::input::mouse::AccumulatedMouseScroll;
use bevy::input::touch::Touches;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::camera::OrbitCamera;
use super::ui::SimControl;
use super::world3d::{CityBounds, Layer, MapSettings, to3};
use crate::demand::{Buildings, Consumers};
use crate::ledger::Ledger;
use crate::ledger::report::Kpis;
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::thermal::ThermalState;
use crate::weather::WeatherNow;

/// Real seconds per step.
pub const STEP_S: f64 = 9.0;
/// In demo mode, the tour starts again after this many real seconds without input.
pub const KIOSK_IDLE_S: f64 = 45.0;
/// Number of steps.
pub const STEPS: usize = 9;

/// The tour's state.
#[derive(Resource, Debug, Clone)]
pub struct Tour {
    pub active: bool,
    /// Started from `?demo`: loops and restarts itself when the visitor leaves it alone.
    pub kiosk: bool,
    pub step: usize,
    /// Real time the current step started, s.
    pub step_started_s: f64,
    /// Real time of the last input, s.
    pub last_input_s: f64,
    /// Steps shown since the tour started (for tests and the page).
    pub steps_shown: u64,
    /// A key moved to another step: enter it at the next drive.
    pub jump: bool,
    /// The "try it yourself" button's rectangle while it is shown, `[x, y, width, height]` in egui
    /// points (the window's logical pixels: the page's CSS pixels), for the page and its test.
    pub try_rect: Option<[f32; 4]>,
    /// Enter on the last step asked for "try it yourself" (done by the panel, like its button).
    pub try_requested: bool,
}

/// What a key does to a running tour: → and ← move between steps (the tour goes on from there),
/// Esc leaves it; any other key also leaves it (the visitor wants to explore).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TourKey {
    Next,
    Previous,
    /// Enter: the next step; on the last one, "try it yourself" where it is offered.
    Enter,
    Leave,
}

impl TourKey {
    pub fn of(key: KeyCode) -> TourKey {
        match key {
            KeyCode::ArrowRight | KeyCode::PageDown => TourKey::Next,
            KeyCode::ArrowLeft | KeyCode::PageUp => TourKey::Previous,
            KeyCode::Enter | KeyCode::NumpadEnter => TourKey::Enter,
            _ => TourKey::Leave,
        }
    }
}

/// Applies a key to the tour at real time `now`, s.
pub fn tour_key(tour: &mut Tour, key: TourKey, now: f64) {
    match key {
        // The tour's panel carries it out (it has the what-if panel to hand over to).
        TourKey::Enter if tour.step == STEPS - 1 => tour.try_requested = true,
        TourKey::Next | TourKey::Enter => {
            tour.step = (tour.step + 1) % STEPS;
            tour.step_started_s = now;
            tour.jump = true;
        }
        TourKey::Previous => {
            tour.step = (tour.step + STEPS - 1) % STEPS;
            tour.step_started_s = now;
            tour.jump = true;
        }
        TourKey::Leave => {
            tour.active = false;
        }
    }
    tour.last_input_s = now;
}

/// Registers the tour (started at once when `demo`).
pub fn add_tour(app: &mut App, demo: bool) {
    app.insert_resource(Tour {
        active: demo,
        kiosk: demo,
        step: 0,
        step_started_s: 0.0,
        last_input_s: 0.0,
        steps_shown: 0,
        jump: false,
        try_rect: None,
        try_requested: false,
    })
    .add_systems(Update, (tour_input, tour_drive).chain())
    .add_systems(EguiPrimaryContextPass, tour_panel);
}

/// Any input stops the tour; in kiosk mode a long idle starts it again.
fn tour_input(
    time: Res<Time<Real>>,
    keys: Res<ButtonInput<KeyCode>>,
    buttons: Res<ButtonInput<MouseButton>>,
    scroll: Res<AccumulatedMouseScroll>,
    touches: Res<Touches>,
    over_ui: Res<super::camera::PointerOverUi>,
    mut tour: ResMut<Tour>,
) {
    let now = time.elapsed_secs_f64();
    // Keys: → ← move between steps, any other leaves (the "Guided tour" button takes the
    // keyboard focus with Tab and starts it with Enter or Space, as every egui button does).
    if tour.active
        && now - tour.step_started_s > 0.2
        && let Some(&key) = keys.get_just_pressed().next()
    {
        tour_key(&mut tour, TourKey::of(key), now);
        return;
    }
    // A click or touch on the tour's own window (its "try it yourself" button) is the window's.
    let input = (!over_ui.0
        && (buttons.get_just_pressed().next().is_some()
            || touches.iter_just_pressed().next().is_some()))
        || scroll.delta != Vec2::ZERO;
    // The click that started the tour must not stop it.
    if input && now - tour.step_started_s > 0.5 {
        tour.last_input_s = now;
        tour.active = false;
    }
    if tour.kiosk && !tour.active && now - tour.last_input_s > KIOSK_IDLE_S {
        start(&mut tour, now);
    }
}

fn start(tour: &mut Tour, now: f64) {
    tour.active = true;
    tour.step = 0;
    tour.step_started_s = now;
    tour.jump = true;
}

/// The tour's last step offers "try it yourself": the tour hands over to the what-if panel, in
/// the mode where a click on the map places a new quantum site.
pub fn try_it_yourself(tour: &mut Tour, planner: &mut super::planner::Planner, now: f64) {
    tour.active = false;
    tour.last_input_s = now;
    planner.open = true;
    planner.mode = super::planner::PlaceMode::NewSite;
    planner.status = "Click on the map where a new quantum site should go: it connects to the \
                      nearest pipe and feeder, and \"compare with the baseline\" shows what it changes."
        .into();
}

/// Advances the steps and moves the camera.
fn tour_drive(
    time: Res<Time<Real>>,
    mut tour: ResMut<Tour>,
    mut map: ResMut<MapSettings>,
    mut ctl: ResMut<SimControl>,
    bounds: Option<Res<CityBounds>>,
    sites: Option<Res<Sites>>,
    net: Option<Res<Network>>,
    mut queue: Option<ResMut<crate::operator::CommandQueue>>,
    mut cams: Query<&mut OrbitCamera>,
) {
    if !tour.active {
        return;
    }
    let (Some(bounds), Some(sites), Some(net)) = (bounds, sites, net) else {
        return;
    };
    let now = time.elapsed_secs_f64();
    let entering = tour.steps_shown == 0 || tour.jump || now - tour.step_started_s >= STEP_S;
    tour.jump = false;
    if now - tour.step_started_s >= STEP_S {
        tour.step = (tour.step + 1) % STEPS;
        tour.step_started_s = now;
    }
    if entering {
        tour.steps_shown += 1;
        if tour.steps_shown == 1 {
            tour.step_started_s = now;
        }
        ctl.paused = false;
        ctl.speed = 600.0;
        let site = biggest_site(&sites);
        let site_pos = site.map(|i| to3(sites.pos[i], 0.0));
        let station_pos = site
            .and_then(|i| sites.node[i])
            .map(|n| to3(net.node_pos[n as usize], 0.0));
        let (focus, dist, layer) = match tour.step {
            0 => (bounds.centre, bounds.radius * 1.9, Layer::SupplyTemperature),
            1 => (
                site_pos.unwrap_or(bounds.centre),
                bounds.radius * 0.35,
                Layer::JobLoad,
            ),
            2 => (
                station_pos.or(site_pos).unwrap_or(bounds.centre),
                bounds.radius * 0.45,
                Layer::QuantumHeatShare,
            ),
            3 => (bounds.centre, bounds.radius * 1.3, Layer::QuantumHeatShare),
            4 => (bounds.centre, bounds.radius * 1.2, Layer::HeatDemand),
            5 => (bounds.centre, bounds.radius * 1.5, Layer::SupplyTemperature),
            6 => (bounds.centre, bounds.radius * 1.6, Layer::Carbon),
            7 => (bounds.centre, bounds.radius * 1.4, Layer::DataLinks),
            _ => (
                site_pos.unwrap_or(bounds.centre),
                bounds.radius * 0.6,
                Layer::QuantumHeatShare,
            ),
        };
        map.layer = layer;
        for mut cam in &mut cams {
            cam.target = Some((focus, dist.max(80.0)));
        }
        // The last step shows a failure for real: the biggest site loses its power supply
        // (its UPS carries it for a while), repaired automatically half an hour later.
        if tour.step == STEPS - 1
            && let (Some(i), Some(queue)) = (site, queue.as_mut())
        {
            queue.instructor(crate::operator::InstructorCommand::Inject(
                crate::faults::FaultSpec {
                    id: format!("tour-{}", tour.steps_shown),
                    kind: crate::faults::FaultKind::SitePowerOutage {
                        site: sites.ids[i].clone(),
                    },
                    at_s: 0.0,
                    repair_s: 1800.0,
                    repair: crate::faults::Repair::Auto,
                },
            ));
        }
    }
    // A slow orbit while the tour runs.
    let dt = time.delta_secs().min(0.1);
    for mut cam in &mut cams {
        cam.yaw -= 0.05 * dt;
        cam.pitch += (0.62 - cam.pitch) * (1.0 - (-2.0 * dt).exp());
    }
}

/// The site with the most electricity (the largest), if any.
fn biggest_site(sites: &Sites) -> Option<usize> {
    (0..sites.ids.len()).max_by(|&a, &b| {
        let pa = sites.compressor_w[a] + sites.electronics_w[a] + sites.servers_w[a];
        let pb = sites.compressor_w[b] + sites.electronics_w[b] + sites.servers_w[b];
        pa.total_cmp(&pb).then(b.cmp(&a))
    })
}

/// What a caption shows: a title, a big number with its meaning, and a sentence.
pub struct Caption {
    pub title: String,
    pub number: String,
    pub number_label: String,
    pub text: String,
}

/// Live values a caption needs.
pub struct TourValues<'a> {
    pub buildings: &'a Buildings,
    pub consumers: &'a Consumers,
    pub sites: &'a Sites,
    pub stations: &'a Stations,
    pub thermal: &'a ThermalState,
    pub weather: &'a WeatherNow,
    pub kpis: Kpis,
}

/// The caption of `step` from the simulation's current values.
pub fn caption(step: usize, v: &TourValues) -> Caption {
    let n_buildings = v.buildings.ids.len();
    let heat_w: f64 = v.stations.heat_w.iter().sum();
    let site = biggest_site(v.sites);
    let k = &v.kpis;
    let supply_c = v
        .stations
        .supply_out_c
        .iter()
        .copied()
        .fold(f64::NAN, f64::max);
    let return_c = v
        .stations
        .return_in_c()
        .iter()
        .copied()
        .fold(f64::NAN, f64::min);
    let mw = |w: f64| format!("{:.1} MW", w / 1e6);
    let kw = |w: f64| format!("{:.0} kW", w / 1e3);
    match step {
        0 => Caption {
            title: "A city warmed by its quantum computers".into(),
            number: mw(heat_w),
            number_label: "of heat flowing to homes right now".into(),
            text: format!(
                "{n_buildings} buildings share one heat network. Hot water leaves the plants in the \
                 pipes, warms every building and comes back cooler to be heated again."
            ),
        },
        1 => {
            let (name, qubits, elec) = site.map_or(("—".to_string(), 0, 0.0), |i| {
                (
                    v.sites.ids[i].clone(),
                    v.sites.qubits[i],
                    v.sites.electricity_w[i],
                )
            });
            Caption {
                title: format!("A micro quantum site: {name}"),
                number: kw(elec),
                number_label: "of electricity it uses now".into(),
                text: format!(
                    "A {qubits}-qubit quantum computer sits in a fridge colder than outer space. \
                     Its compressor, control electronics and servers use electricity, and all of \
                     it ends up as heat."
                ),
            }
        }
        2 => {
            let (rec, cop) = site.map_or((0.0, 0.0), |i| {
                let st = v.sites.node[i].and_then(|n| v.stations.node.iter().position(|&s| s == n));
                (
                    v.sites.recovered_w[i],
                    st.map_or(0.0, |s| v.stations.hp_cop[s]),
                )
            });
            Caption {
                title: "A heat pump lifts the waste heat".into(),
                number: kw(rec),
                number_label: "of the site's heat recovered into the network".into(),
                text: format!(
                    "The site's cooling water is only lukewarm. A heat pump raises it to the \
                     network's temperature, getting {cop:.1} units of heat for each unit of \
                     electricity."
                ),
            }
        }
        3 => Caption {
            title: "Where the heat comes from".into(),
            number: format!("{:.0} %", 100.0 * k.waste_heat_share),
            number_label: "of the city's heat so far is quantum waste heat".into(),
            text: "Purple buildings get most of their heat from the quantum sites; the rest \
                   comes from heat pumps' electricity and, on cold days, gas boilers."
                .into(),
        },
        4 => {
            let demand_w: f64 = v.consumers.delivered_w().iter().sum();
            Caption {
                title: "Where the heat goes".into(),
                number: mw(demand_w),
                number_label: format!(
                    "heating buildings now, at {:.0} °C outside",
                    v.weather.outdoor_temp_c
                ),
                text: "Darker buildings need more heat for each square metre: older walls and \
                       windows lose more of it."
                    .into(),
            }
        }
        5 => Caption {
            title: "Hot out, cooler back".into(),
            number: format!("{supply_c:.0} °C → {return_c:.0} °C"),
            number_label: "supply and return water temperature".into(),
            text: format!(
                "The pipes lose some heat to the ground on the way: {:.1} % of the heat so far. \
                 Lower temperatures lose less and let the heat pumps work better.",
                100.0 * k.heat_losses_kwh / k.heat_delivered_kwh.max(1e-9)
            ),
        },
        6 => Caption {
            title: "Carbon saved".into(),
            number: format!("{:.0} kg CO₂", (k.co2_baseline_kg - k.co2_kg).max(0.0)),
            number_label: "avoided so far, against gas boilers and a distant data centre".into(),
            text: format!(
                "So far the city emitted {:.0} kg of CO₂ for heat and power; gas boilers alone \
                 and the jobs sent to a distant data centre would have emitted {:.0} kg.",
                k.co2_kg, k.co2_baseline_kg
            ),
        },
        7 => {
            let safe = 100.0 * k.link_quantum_safe_share;
            Caption {
                title: "Keeping the city's data safe from future quantum computers".into(),
                number: format!("{safe:.0} %"),
                number_label: "of the data sent to the sites is protected against them".into(),
                text: format!(
                    "The city's services send their data to the sites encrypted. A future quantum \
                     computer could break today's usual encryption and read recordings of it \
                     years later. Green and blue links already use new quantum-safe keys, violet \
                     ones keys sent as single photons over fibre. Red links carry data that must \
                     stay secret for decades over the old kind: {} of it so far, in {} jobs.{}",
                    super::ui::human_bytes(k.link_exposed_mb * 1e6, super::plain::Lang::En),
                    k.link_exposed_jobs,
                    if k.link_added_latency_ms_hybrid > 0.0 {
                        format!(
                            " The new keys cost {:.2} ms a job, the old {:.2} ms.",
                            k.link_added_latency_ms_hybrid, k.link_added_latency_ms_classical
                        )
                    } else {
                        String::new()
                    }
                ),
            }
        }
        _ => {
            // The tour cuts this site's power at the start of the step (see `tour_drive`).
            let (name, online, rec) = site.map_or(("—".to_string(), true, 0.0), |i| {
                (
                    v.sites.ids[i].clone(),
                    v.sites.online[i],
                    v.sites.recovered_w[i],
                )
            });
            let boiler_w: f64 = v.stations.boiler_heat_w.iter().sum();
            Caption {
                title: format!("What if a site fails? We just cut the power to {name}"),
                number: mw(boiler_w),
                number_label: "from gas boilers now, filling the gap".into(),
                text: format!(
                    "{} Its quantum jobs move to the other sites: {} jobs have run in the city so \
                     far, {:.0} % of them on time. A repair crew brings it back in half an hour.",
                    if online {
                        format!(
                            "Its battery carries it for a few minutes (it still gives {:.0} kW of \
                             heat); then it stops.",
                            rec / 1e3
                        )
                    } else {
                        "It is down: its heat has stopped.".to_string()
                    },
                    k.quantum_jobs_completed,
                    100.0
                        * (1.0
                            - k.quantum_jobs_missed_deadline as f64
                                / (k.quantum_jobs_completed.max(1)) as f64)
                ),
            }
        }
    }
}

/// The caption of `step` in `lang`: English as [`caption`], German from the same live values
/// (its large number is English's with a decimal comma).
pub fn caption_in(step: usize, v: &TourValues, lang: super::plain::Lang) -> Caption {
    let en = caption(step, v);
    if lang == super::plain::Lang::En {
        return en;
    }
    let number = en.number.replace('.', ",");
    let k = &v.kpis;
    let site = biggest_site(v.sites);
    let site_name = site.map_or("—".to_string(), |i| v.sites.ids[i].clone());
    let dec = |x: f64, d: usize| format!("{x:.d$}").replace('.', ",");
    let (title, number_label, text): (String, String, String) = match step {
        0 => (
            "Eine Stadt, geheizt von ihren Quantenrechnern".into(),
            "Wärme fließen gerade zu den Häusern".into(),
            format!(
                "{} Gebäude teilen ein Wärmenetz. Heißes Wasser verlässt die Heizwerke in den \
                 Rohren, wärmt jedes Gebäude und kommt kühler zurück, um wieder erhitzt zu werden.",
                v.buildings.ids.len()
            ),
        ),
        1 => {
            let qubits = site.map_or(0, |i| v.sites.qubits[i]);
            (
                format!("Ein kleines Quanten-Rechenzentrum: {site_name}"),
                "Strom braucht es gerade".into(),
                format!(
                    "Ein Quantenrechner mit {qubits} Qubits steht in einem Kühlschrank, kälter als \
                     der Weltraum. Kompressor, Steuerelektronik und Server brauchen Strom, und \
                     all das wird am Ende zu Wärme."
                ),
            )
        }
        2 => {
            let cop = site.map_or(0.0, |i| {
                let st = v.sites.node[i].and_then(|n| v.stations.node.iter().position(|&s| s == n));
                st.map_or(0.0, |s| v.stations.hp_cop[s])
            });
            (
                "Eine Wärmepumpe hebt die Abwärme an".into(),
                "Abwärme des Standorts gehen ins Netz".into(),
                format!(
                    "Das Kühlwasser des Standorts ist nur lauwarm. Eine Wärmepumpe bringt es auf \
                     die Temperatur des Netzes und macht aus jeder Einheit Strom {} Einheiten \
                     Wärme.",
                    dec(cop, 1)
                ),
            )
        }
        3 => (
            "Woher die Wärme kommt".into(),
            "der Wärme der Stadt waren bisher Abwärme der Quantenrechner".into(),
            "Lila Gebäude bekommen den größten Teil ihrer Wärme von den Quantenstandorten; der \
             Rest kommt aus dem Strom der Wärmepumpen und an kalten Tagen aus Gaskesseln."
                .into(),
        ),
        4 => (
            "Wohin die Wärme geht".into(),
            format!(
                "heizen gerade die Gebäude, bei {} °C draußen",
                dec(v.weather.outdoor_temp_c, 0)
            ),
            "Dunklere Gebäude brauchen mehr Wärme je Quadratmeter: ältere Wände und Fenster \
             verlieren mehr davon."
                .into(),
        ),
        5 => (
            "Heiß hin, kühler zurück".into(),
            "Vorlauf- und Rücklauftemperatur".into(),
            format!(
                "Auf dem Weg verlieren die Rohre etwas Wärme an den Boden: bisher {} % der \
                 Wärme. Niedrigere Temperaturen verlieren weniger, und die Wärmepumpen arbeiten \
                 besser.",
                dec(
                    100.0 * k.heat_losses_kwh / k.heat_delivered_kwh.max(1e-9),
                    1
                )
            ),
        ),
        6 => (
            "Eingespartes CO₂".into(),
            "bisher vermieden, gegenüber Gaskesseln und einem fernen Rechenzentrum".into(),
            format!(
                "Bisher hat die Stadt für Wärme und Strom {} kg CO₂ ausgestoßen; Gaskessel allein \
                 und die Aufträge an ein fernes Rechenzentrum hätten {} kg ausgestoßen.",
                dec(k.co2_kg, 0),
                dec(k.co2_baseline_kg, 0)
            ),
        ),
        7 => (
            "Die Daten der Stadt, sicher vor künftigen Quantenrechnern".into(),
            "der Daten an die Standorte sind gegen sie geschützt".into(),
            format!(
                "Die Dienste der Stadt schicken ihre Daten verschlüsselt an die Standorte. Ein \
                 künftiger Quantenrechner könnte die heute übliche Verschlüsselung brechen und \
                 Aufzeichnungen noch Jahre später lesen. Grüne und blaue Verbindungen nutzen \
                 schon neue, quantensichere Schlüssel, violette Schlüssel aus einzelnen \
                 Lichtteilchen in der Glasfaser. Rote Verbindungen tragen Daten, die jahrzehntelang \
                 geheim bleiben müssen, auf die alte Art: bisher {} in {} Aufträgen.",
                super::ui::human_bytes(k.link_exposed_mb * 1e6, super::plain::Lang::De),
                k.link_exposed_jobs
            ),
        ),
        _ => {
            let online = site.is_none_or(|i| v.sites.online[i]);
            (
                format!(
                    "Was, wenn ein Standort ausfällt? Wir haben {site_name} gerade den Strom abgestellt"
                ),
                "kommen jetzt aus Gaskesseln und füllen die Lücke".into(),
                format!(
                    "{} Seine Quantenaufträge wandern zu den anderen Standorten: {} Aufträge liefen \
                     bisher in der Stadt, {} % davon pünktlich. Ein Reparaturtrupp bringt ihn in \
                     einer halben Stunde zurück.",
                    if online {
                        "Seine Batterie trägt ihn ein paar Minuten; dann steht er still."
                    } else {
                        "Er ist aus: seine Wärme fehlt."
                    },
                    k.quantum_jobs_completed,
                    dec(
                        100.0
                            * (1.0
                                - k.quantum_jobs_missed_deadline as f64
                                    / (k.quantum_jobs_completed.max(1)) as f64),
                        0
                    )
                ),
            )
        }
    };
    Caption {
        title,
        number,
        number_label,
        text,
    }
}

/// The tour window's fixed words in `lang`: the "try it yourself" button and the hint.
pub fn tour_chrome(lang: super::plain::Lang) -> (&'static str, &'static str) {
    match lang {
        super::plain::Lang::En => (
            "➕ Try it yourself: place a new site (Enter)",
            "arrow keys: previous or next step, Enter: next · touch, click or press any other key to explore on your own",
        ),
        super::plain::Lang::De => (
            "➕ Selbst ausprobieren: einen neuen Standort setzen (Eingabe)",
            "Pfeiltasten: voriger oder nächster Schritt, Eingabe: nächster · tippen, klicken oder eine andere Taste drücken, um selbst zu erkunden",
        ),
    }
}

/// The button that starts the tour, in `lang`.
pub fn tour_button(lang: super::plain::Lang) -> &'static str {
    match lang {
        super::plain::Lang::En => "▶ Guided tour",
        super::plain::Lang::De => "▶ Rundgang",
    }
}

#[allow(clippy::too_many_arguments)]
fn tour_panel(
    mut contexts: EguiContexts,
    time: Res<Time<Real>>,
    mut tour: ResMut<Tour>,
    buildings: Option<Res<Buildings>>,
    consumers: Option<Res<Consumers>>,
    sites: Option<Res<Sites>>,
    stations: Option<Res<Stations>>,
    thermal: Option<Res<ThermalState>>,
    weather: Option<Res<WeatherNow>>,
    ledger: Option<Res<Ledger>>,
    mut planner: Option<ResMut<super::planner::Planner>>,
    audience: Option<Res<super::Audience>>,
) -> Result {
    // The embedded page has no what-if panel to hand over to.
    let can_try = !audience.as_ref().is_some_and(|a| a.embed);
    let lang = audience.as_ref().map_or(super::plain::Lang::En, |a| a.lang);
    let ctx = contexts.ctx_mut()?;
    let screen = ctx.content_rect();
    let (
        Some(buildings),
        Some(consumers),
        Some(sites),
        Some(stations),
        Some(thermal),
        Some(weather),
        Some(ledger),
    ) = (
        buildings, consumers, sites, stations, thermal, weather, ledger,
    )
    else {
        return Ok(());
    };
    if !tour.active {
        if tour.try_rect.is_some() {
            tour.try_rect = None;
        }
        egui::Area::new(egui::Id::new("tour_button"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(12.0, -12.0))
            .show(ctx, |ui| {
                if ui
                    .button(egui::RichText::new(tour_button(lang)).size(18.0))
                    .clicked()
                {
                    start(&mut tour, time.elapsed_secs_f64());
                }
            });
        return Ok(());
    }
    let v = TourValues {
        buildings: &buildings,
        consumers: &consumers,
        sites: &sites,
        stations: &stations,
        thermal: &thermal,
        weather: &weather,
        kpis: Kpis::from_ledger(&ledger),
    };
    let c = caption_in(tour.step, &v, lang);
    let (try_label, hint) = tour_chrome(lang);
    // Scale with the screen so a phone reads it as well as a kiosk.
    let w = (screen.width() * 0.9).min(760.0);
    let s = (screen.width() / 900.0).clamp(0.75, 1.3);
    let mut try_rect = None;
    // Enter on the last step (tour_key) presses the button; where there is none (the embedded
    // page) it is forgotten.
    let enter_pressed = tour.try_requested;
    if enter_pressed {
        tour.try_requested = false;
    }
    egui::Window::new("tour")
        .title_bar(false)
        .resizable(false)
        .collapsible(false)
        .fixed_size(egui::vec2(w, 0.0))
        .anchor(egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -24.0))
        .frame(
            egui::Frame::new()
                .fill(egui::Color32::from_rgba_unmultiplied(12, 18, 30, 225))
                .corner_radius(10.0)
                .inner_margin(16.0),
        )
        .show(ctx, |ui| {
            ui.visuals_mut().override_text_color = Some(egui::Color32::WHITE);
            ui.label(
                egui::RichText::new(format!("{}  ·  {}/{}", c.title, tour.step + 1, STEPS))
                    .size(20.0 * s)
                    .strong(),
            );
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    egui::RichText::new(&c.number)
                        .size(44.0 * s)
                        .strong()
                        .color(egui::Color32::from_rgb(255, 190, 90)),
                );
                ui.label(egui::RichText::new(&c.number_label).size(18.0 * s));
            });
            ui.label(egui::RichText::new(&c.text).size(17.0 * s));
            if tour.step == STEPS - 1
                && can_try
                && let Some(planner) = planner.as_mut()
            {
                let b = ui.button(egui::RichText::new(try_label).size(18.0 * s).strong());
                try_rect = Some([b.rect.min.x, b.rect.min.y, b.rect.width(), b.rect.height()]);
                if b.clicked() || enter_pressed {
                    try_it_yourself(&mut tour, planner, time.elapsed_secs_f64());
                }
            }
            let p = ((time.elapsed_secs_f64() - tour.step_started_s) / STEP_S).clamp(0.0, 1.0);
            ui.add(egui::ProgressBar::new(p as f32).desired_height(4.0));
            ui.label(egui::RichText::new(hint).size(13.0 * s).weak());
        });
    let try_rect = try_rect.filter(|_| tour.active);
    if tour.try_rect != try_rect {
        tour.try_rect = try_rect;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_keys_move_between_steps_and_other_keys_leave() {
        let mut t = Tour {
            active: true,
            kiosk: true,
            step: 0,
            step_started_s: 0.0,
            last_input_s: 0.0,
            steps_shown: 1,
            jump: false,
            try_rect: None,
            try_requested: false,
        };
        tour_key(&mut t, TourKey::of(KeyCode::ArrowLeft), 3.0);
        assert_eq!((t.step, t.active, t.jump), (STEPS - 1, true, true));
        assert_eq!(t.step_started_s, 3.0);
        tour_key(&mut t, TourKey::of(KeyCode::ArrowRight), 4.0);
        tour_key(&mut t, TourKey::of(KeyCode::PageDown), 5.0);
        assert_eq!((t.step, t.active), (1, true));
        // Enter is the next step, and on the last one asks for "try it yourself".
        tour_key(&mut t, TourKey::of(KeyCode::Enter), 5.5);
        assert_eq!((t.step, t.active, t.try_requested), (2, true, false));
        t.step = STEPS - 1;
        tour_key(&mut t, TourKey::of(KeyCode::NumpadEnter), 5.7);
        assert_eq!((t.step, t.active, t.try_requested), (STEPS - 1, true, true));
        tour_key(&mut t, TourKey::of(KeyCode::Escape), 6.0);
        assert!(!t.active);
        assert_eq!(t.last_input_s, 6.0);
        assert_eq!(TourKey::of(KeyCode::Space), TourKey::Leave);
    }
}
