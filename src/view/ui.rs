//! The panels (bevy_egui): time controls, layers and legend, the KPI dashboard, the inspector, and
//! a scene's errors when it cannot be loaded.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::camera::PointerOverUi;
use super::plain::Lang;
use super::words::{tf, tr};
use super::world3d::{Layer, MapSettings, Pick};
use crate::base::{Kind, SceneSpec, SimClock};
use crate::demand::{Buildings, Consumers};
use crate::grid::GridState;
use crate::hydraulics::HydraulicState;
use crate::ledger::Ledger;
use crate::ledger::report::Kpis;
use crate::network::Network;
use crate::plants::Stations;
use crate::quantum::Sites;
use crate::thermal::ThermalState;

/// How fast simulated time runs, and requests from the panels.
#[derive(Resource, Debug, Clone)]
pub struct SimControl {
    /// Simulated seconds per real second.
    pub speed: f64,
    pub paused: bool,
    pub step_requested: bool,
    /// Run ahead (as fast as possible) until this simulated time, s.
    pub jump_to_s: Option<f64>,
    /// Measured simulated seconds per real second.
    pub achieved_speed: f64,
    pub jump_day: f64,
}

impl Default for SimControl {
    fn default() -> Self {
        Self {
            speed: 600.0,
            paused: false,
            step_requested: false,
            jump_to_s: None,
            achieved_speed: 0.0,
            jump_day: 1.0,
        }
    }
}

/// KPI history sampled every simulated quarter hour.
#[derive(Resource, Debug, Default)]
pub struct KpiHistory {
    pub t_h: Vec<f64>,
    pub waste_share: Vec<f64>,
    pub unmet_kw: Vec<f64>,
    pub co2_kg: Vec<f64>,
    pub co2_base_kg: Vec<f64>,
    pub renewable: Vec<f64>,
    pub heat_mw: Vec<f64>,
    pub hp_mw: Vec<f64>,
    prev: Option<(f64, f64, f64)>,
}

/// The object picked for inspection, and its recent values.
#[derive(Resource, Debug, Default)]
pub struct Selection {
    pub pick: Option<Pick>,
    pub history: Vec<(f64, f64, f64)>,
}

/// Errors of a scene that could not be loaded (shown instead of a city).
#[derive(Resource, Debug, Default)]
pub struct SceneErrors(pub Option<String>);

/// Samples the KPI history (FixedUpdate, after the ledger).
pub fn sample_history(
    clock: Res<SimClock>,
    l: Res<Ledger>,
    st: Res<Stations>,
    c: Res<Consumers>,
    mut h: ResMut<KpiHistory>,
    sel: Option<ResMut<Selection>>,
    th: Res<ThermalState>,
    hs: Res<HydraulicState>,
    sites: Res<Sites>,
) {
    // Per-object history: every tick, last 2 simulated days.
    if let Some(mut sel) = sel
        && let Some(p) = sel.pick
    {
        let i = p.index as usize;
        let (a, b) = match p.kind {
            Kind::Building => (c.delivered_w()[i] / 1e3, c.unmet_w()[i] / 1e3),
            Kind::Pipe => (hs.pipe_flow_kg_s[i], th.supply_out_c[i]),
            Kind::Site => (sites.electricity_w[i] / 1e3, sites.recovered_w[i] / 1e3),
            _ => (0.0, 0.0),
        };
        sel.history.push((clock.time_s / 3600.0, a, b));
        let cap = (2.0 * 86_400.0 / clock.tick_s) as usize;
        if sel.history.len() > cap {
            let extra = sel.history.len() - cap;
            sel.history.drain(..extra);
        }
    }
    let every = (900.0 / clock.tick_s).max(1.0) as u64;
    if !clock.tick.is_multiple_of(every) {
        return;
    }
    let k = Kpis::from_ledger(&l);
    let t = clock.time_s / 3600.0;
    h.t_h.push(t);
    h.waste_share.push(100.0 * k.waste_heat_share);
    h.unmet_kw.push(c.unmet_w().iter().sum::<f64>() / 1e3);
    h.co2_kg.push(k.co2_kg);
    h.co2_base_kg.push(k.co2_baseline_kg);
    h.renewable.push(100.0 * k.renewable_share);
    h.heat_mw.push(st.heat_w.iter().sum::<f64>() / 1e6);
    h.hp_mw.push(st.hp_heat_w.iter().sum::<f64>() / 1e6);
    h.prev = Some((t, k.co2_kg, k.co2_baseline_kg));
}

pub(crate) fn line(name: &str, t: &[f64], v: &[f64]) -> Line<'static> {
    let pts: Vec<[f64; 2]> = t.iter().zip(v).map(|(a, b)| [*a, *b]).collect();
    Line::new(name.to_string(), PlotPoints::from(pts))
}

/// The embedded page (`?embed`): no panels; while the guided tour is not running, one large
/// number — the homes' worth of heat that came from the quantum sites' waste heat so far, in the
/// page's language ([`super::plain`]) — over the city.
pub fn embed_panel(
    mut contexts: EguiContexts,
    audience: Res<super::Audience>,
    l: Res<Ledger>,
    clock: Res<SimClock>,
    spec: Res<SceneSpec>,
    b: Res<Buildings>,
    tour: Option<Res<super::tour::Tour>>,
    mut over_ui: ResMut<PointerOverUi>,
    mut plain: Local<super::plain::PlainCache>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    over_ui.0 = ctx.is_pointer_over_egui() || ctx.egui_wants_pointer_input();
    if tour.is_some_and(|t| t.active) {
        return Ok(());
    }
    let Some(line) = plain
        .lines(&l, clock.tick_s, &spec.scene, &b, audience.lang)
        .first()
        .cloned()
    else {
        return Ok(());
    };
    let w = (ctx.content_rect().width() * 0.9).min(520.0);
    egui::Area::new(egui::Id::new("embed_number"))
        .anchor(egui::Align2::LEFT_TOP, egui::vec2(12.0, 12.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(egui::Color32::from_rgba_unmultiplied(12, 18, 30, 215))
                .corner_radius(10.0)
                .inner_margin(12.0)
                .show(ui, |ui| {
                    ui.set_max_width(w);
                    ui.visuals_mut().override_text_color = Some(egui::Color32::WHITE);
                    ui.label(
                        egui::RichText::new(&line.number)
                            .size(40.0)
                            .strong()
                            .color(egui::Color32::from_rgb(255, 190, 90)),
                    );
                    ui.label(egui::RichText::new(&line.text).size(16.0));
                    ui.label(egui::RichText::new(&spec.scene.name).small().weak());
                });
        });
    Ok(())
}

/// The time bar's speeds, simulated seconds per real second.
pub const SPEEDS: [f64; 4] = [1.0, 60.0, 600.0, 3600.0];

/// Keyboard control of the time bar: Space plays or pauses, `.` steps one tick while paused,
/// 1–4 choose 1×, 60×, 600×, 3600× (and play). Returns whether the key was the time bar's.
pub fn time_key(ctl: &mut SimControl, key: KeyCode) -> bool {
    let speed = |ctl: &mut SimControl, i: usize| {
        ctl.speed = SPEEDS[i];
        ctl.paused = false;
    };
    match key {
        KeyCode::Space => ctl.paused = !ctl.paused,
        KeyCode::Period if ctl.paused => ctl.step_requested = true,
        KeyCode::Digit1 | KeyCode::Numpad1 => speed(ctl, 0),
        KeyCode::Digit2 | KeyCode::Numpad2 => speed(ctl, 1),
        KeyCode::Digit3 | KeyCode::Numpad3 => speed(ctl, 2),
        KeyCode::Digit4 | KeyCode::Numpad4 => speed(ctl, 3),
        _ => return false,
    }
    true
}

/// Applies the time bar's keys, unless a text field has the keyboard.
pub fn time_keys(
    mut contexts: EguiContexts,
    keys: Res<ButtonInput<KeyCode>>,
    mut ctl: ResMut<SimControl>,
) -> Result {
    if contexts.ctx_mut()?.egui_wants_keyboard_input() {
        return Ok(());
    }
    for &k in keys.get_just_pressed() {
        time_key(&mut ctl, k);
    }
    Ok(())
}

/// The data-link figures of the KPI panel (issue 17), from the run's KPIs: the share of job data
/// on quantum-safe links, the "harvest now, decrypt later" exposure, and one line with the added
/// latency per job by scheme (schemes that carried no job are left out), failures and fallbacks.
pub fn link_panel_text(k: &Kpis, lang: Lang) -> (String, String, String) {
    let share = tf(lang, "{:.1} %", &[&(100.0 * k.link_quantum_safe_share)]);
    let exposure = tf(
        lang,
        "{} · {} jobs",
        &[
            &human_bytes(k.link_exposed_mb * 1e6, lang),
            &k.link_exposed_jobs,
        ],
    );
    let schemes = [
        (tr(lang, "classical"), k.link_added_latency_ms_classical),
        (tr(lang, "hybrid"), k.link_added_latency_ms_hybrid),
        ("ML-KEM", k.link_added_latency_ms_pure_mlkem),
        ("QKD", k.link_added_latency_ms_qkd),
    ];
    let by_scheme: Vec<String> = schemes
        .iter()
        .filter(|(_, ms)| *ms > 0.0)
        .map(|(name, ms)| tf(lang, "{} {:.2}", &[name, ms]))
        .collect();
    let line = tf(
        lang,
        "key exchange + encryption add {:.2} ms a job ({}) · {} handshakes, {} failed, {} QKD sessions fell back to classical",
        &[
            &k.link_added_latency_ms_mean,
            &if by_scheme.is_empty() {
                tr(lang, "no jobs yet").to_string()
            } else {
                tf(lang, "{} ms", &[&by_scheme.join(", ")])
            },
            &k.link_handshakes,
            &k.link_kex_failures,
            &k.link_classical_fallback_sessions,
        ],
    );
    (share, exposure, line)
}

/// One link as the site inspector lists it: how it looks on the map, its fibre, and whether a
/// session is open.
pub fn site_link_text(st: &crate::links::DataLinkState, k: usize, lang: Lang) -> String {
    let l = &st.links[k];
    let look = super::links_layer::link_look(st, k);
    tf(
        lang,
        "{} · {:.1} km fibre · {}",
        &[
            &tr(lang, look.name()),
            &(l.fibre_m / 1e3),
            &if l.open() {
                tr(lang, "session open")
            } else {
                tr(lang, "no session")
            },
        ],
    )
}

/// Bytes in B, kB, MB or GB (decimal), three significant figures.
pub fn human_bytes(b: f64, lang: Lang) -> String {
    let (v, unit) = if b >= 1e9 {
        (b / 1e9, "GB")
    } else if b >= 1e6 {
        (b / 1e6, "MB")
    } else if b >= 1e3 {
        (b / 1e3, "kB")
    } else {
        return tf(lang, "{:.0} B", &[&b]);
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let v = format!("{v:.digits$}");
    let v = if lang == Lang::De {
        v.replace('.', ",")
    } else {
        v
    };
    format!("{v} {unit}")
}

/// The links layer's legend: a swatch and a count per look, the hubs' shapes.
fn links_legend(ui: &mut egui::Ui, links: Option<&crate::links::DataLinkState>, lang: Lang) {
    use super::links_layer::{LinkLook, look_counts};
    let Some(st) = links else {
        ui.label(tr(lang, "no data links in this scene"));
        return;
    };
    let n = look_counts(st);
    for (look, count) in LinkLook::ALL.iter().zip(n) {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(22.0, 6.0), egui::Sense::hover());
            let [r, g, b] = look.rgb();
            ui.painter()
                .rect_filled(rect, 1.0, egui::Color32::from_rgb(r, g, b));
            let text = format!("{} ({count})", tr(lang, look.name()));
            ui.label(if count > 0 {
                egui::RichText::new(text)
            } else {
                egui::RichText::new(text).weak()
            });
        });
    }
    ui.label(
        egui::RichText::new(tr(
            lang,
            "Arcs run from each city service's hub (a circle for traffic, a square for grid \
             balancing, a triangle for sensing, drawn around the centre of the job origins) to each site. \"At risk\": secret longer than \
             the quantum horizon minus the migration time (Mosca).",
        ))
        .small(),
    );
}

fn big_number(ui: &mut egui::Ui, label: &str, value: String, tip: &str) {
    ui.vertical(|ui| {
        ui.label(egui::RichText::new(label).small());
        ui.label(egui::RichText::new(value).size(20.0).strong())
            .on_hover_text(tip);
    });
}

#[allow(clippy::too_many_arguments)]
pub fn panels(
    mut contexts: EguiContexts,
    mut ctl: ResMut<SimControl>,
    mut settings: ResMut<MapSettings>,
    mut over_ui: ResMut<PointerOverUi>,
    clock: Res<SimClock>,
    l: Res<Ledger>,
    hist: Res<KpiHistory>,
    sel: Res<Selection>,
    world_refs: WorldRefs,
    diagnostics: Res<bevy::diagnostic::DiagnosticsStore>,
    tour: Option<Res<super::tour::Tour>>,
    mut side_panels: Local<Option<bool>>,
    mut right_w: ResMut<super::camera::RightPanelWidth>,
    mut audience: ResMut<super::Audience>,
    mut plain: Local<super::plain::PlainCache>,
    mut selected_sensors: Local<SelectedSensors>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let ctx = &ctx;
    let lang = audience.lang;
    // Side panels: open on a wide screen, closed on a phone (a button opens them), hidden during
    // the guided tour so the city and the captions have the screen.
    let narrow = ctx.content_rect().width() < 900.0;
    let panels_open = side_panels.unwrap_or(!narrow);
    let show_side = panels_open && !tour.as_ref().is_some_and(|t| t.active);
    let mut root = egui::Ui::new(
        ctx.clone(),
        "qtwin_root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let fps = diagnostics
        .get(&bevy::diagnostic::FrameTimeDiagnosticsPlugin::FPS)
        .and_then(|d| d.smoothed())
        .unwrap_or(0.0);

    egui::Panel::top("time").show(&mut root, |ui| {
        ui.horizontal_wrapped(|ui| {
            let spec_name = world_refs.spec.scene.name.clone();
            ui.heading(format!("qtwin — {spec_name}"));
            ui.separator();
            let day = (clock.start_day_of_year as f64 - 1.0) + clock.time_s / 86_400.0;
            let h = (clock.time_s / 3600.0 + 0.0).rem_euclid(24.0);
            ui.label(
                egui::RichText::new(tf(
                    lang,
                    "day {} {:02}:{:02}",
                    &[
                        &(day.floor() as i64 + 1),
                        &(h.floor() as i64),
                        &((h.fract() * 60.0).floor() as i64),
                    ],
                ))
                .monospace()
                .size(16.0),
            );
            ui.separator();
            if ui
                .button(if ctl.paused {
                    tr(lang, "▶ play")
                } else {
                    tr(lang, "⏸ pause")
                })
                .on_hover_text(tr(lang, "Space"))
                .clicked()
            {
                ctl.paused = !ctl.paused;
            }
            if ui
                .add_enabled(ctl.paused, egui::Button::new(tr(lang, "step")))
                .on_hover_text(tr(lang, "key ."))
                .clicked()
            {
                ctl.step_requested = true;
            }
            for (i, s) in SPEEDS.into_iter().enumerate() {
                if ui
                    .selectable_label(ctl.speed == s, format!("{}×", s as u32))
                    .on_hover_text(tf(lang, "key {}", &[&(i + 1)]))
                    .clicked()
                {
                    ctl.speed = s;
                    ctl.paused = false;
                }
            }
            ui.separator();
            ui.label(tr(lang, "jump to day"));
            ui.add(
                egui::DragValue::new(&mut ctl.jump_day)
                    .range(1.0..=365.0)
                    .speed(0.1),
            );
            if ui.button(tr(lang, "go")).clicked() {
                let target = (ctl.jump_day - clock.start_day_of_year as f64).max(0.0) * 86_400.0;
                if target > clock.time_s {
                    ctl.jump_to_s = Some(target);
                }
            }
            if let Some(t) = ctl.jump_to_s {
                ui.label(tf(
                    lang,
                    "running ahead… {:.0} %",
                    &[&(100.0 * clock.time_s / t.max(1.0))],
                ));
            }
            ui.separator();
            let behind =
                !ctl.paused && ctl.jump_to_s.is_none() && ctl.achieved_speed < 0.8 * ctl.speed;
            if behind {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 120, 40),
                    tf(
                        lang,
                        "falling behind: {:.0}× of {:.0}×",
                        &[&ctl.achieved_speed, &ctl.speed],
                    ),
                );
            } else {
                ui.label(tf(lang, "{:.0}× real time", &[&ctl.achieved_speed]));
            }
            ui.label(format!("{fps:.0} fps"));
            // The network solve: a warning while it does not converge, and how often it did not.
            let hs = &world_refs.hs;
            if !hs.converged || l.nonconverged_ticks > 0 {
                let colour = if hs.converged {
                    egui::Color32::from_rgb(230, 180, 40)
                } else {
                    egui::Color32::from_rgb(230, 60, 40)
                };
                ui.colored_label(
                    colour,
                    tf(
                        lang,
                        "⚠ network solve not converged in {} ticks",
                        &[&l.nonconverged_ticks],
                    ),
                )
                .on_hover_text(tf(
                    lang,
                    "the loop equations stopped at the iteration limit: flows and pressures are \
                     not a solution (this tick: {}, loop residual {:.1} Pa; worst {} Pa)",
                    &[
                        &if hs.converged {
                            tr(lang, "converged")
                        } else {
                            tr(lang, "NOT converged")
                        },
                        &hs.max_loop_residual_pa,
                        &format!("{:.3e}", l.max_loop_residual_pa),
                    ],
                ));
            }
            if ui
                .selectable_label(panels_open, tr(lang, "☰ panels"))
                .on_hover_text(tr(lang, "show or hide the layer and KPI panels"))
                .clicked()
            {
                *side_panels = Some(!panels_open);
            }
        });
    });
    right_w.0 = 0.0;
    if show_side {
        egui::Panel::left("layers").default_size(200.0).min_size(200.0).show(&mut root, |ui| {
        ui.heading(tr(lang, "Layers"));
        for layer in Layer::ALL {
            ui.radio_value(&mut settings.layer, layer, tr(lang, layer.name()));
        }
        ui.separator();
        let (map, lo, hi, unit) = settings.layer.legend();
        ui.label(egui::RichText::new(tr(lang, settings.layer.name())).strong());
        if settings.layer == Layer::DataLinks {
            links_legend(ui, world_refs.links.as_deref(), lang);
        } else {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(170.0, 16.0), egui::Sense::hover());
        let painter = ui.painter();
        let steps = 40;
        for i in 0..steps {
            let x0 = rect.left() + rect.width() * i as f32 / steps as f32;
            let x1 = rect.left() + rect.width() * (i + 1) as f32 / steps as f32;
            let [r, g, b] = map.rgb(i as f32 / (steps - 1) as f32);
            painter.rect_filled(
                egui::Rect::from_min_max(egui::pos2(x0, rect.top()), egui::pos2(x1, rect.bottom())),
                0.0,
                egui::Color32::from_rgb(r, g, b),
            );
        }
        ui.horizontal(|ui| {
            ui.label(tf(lang, "{:.0}", &[&lo]));
            ui.add_space(100.0);
            ui.label(tf(lang, "{:.0} {}", &[&hi, &tr(lang, unit)]));
        });
        }
        ui.label(egui::RichText::new(tr(lang, "Pipes: supply (outer) and return tubes, coloured by water temperature 40–95 °C; dots move with the water (60× speed).")).small());
        ui.separator();
        ui.checkbox(&mut settings.show_pipes, tr(lang, "heat network"));
        ui.checkbox(&mut settings.show_particles, tr(lang, "flow particles"));
        ui.checkbox(&mut settings.show_grid, tr(lang, "electrical feeders"));
        ui.separator();
        ui.label(egui::RichText::new(tr(lang, "Drag: orbit · right drag: pan · wheel: zoom · double-click: focus · R: reset")).small());
    });

        let k = Kpis::from_ledger(&l);
        right_w.0 = egui::Panel::right("kpis").default_size(330.0).min_size(330.0).show(&mut root, |ui| {
        let chrome = super::plain::chrome(audience.lang);
        ui.horizontal_wrapped(|ui| {
            ui.heading(if audience.plain { chrome.heading } else { tr(lang, "City KPIs") });
            ui.selectable_value(&mut audience.plain, true, chrome.for_residents);
            ui.selectable_value(&mut audience.plain, false, chrome.details);
            // The language of every panel (and the tour), in either mode.
            for lang in super::plain::Lang::ALL {
                ui.selectable_value(&mut audience.lang, lang, lang.code());
            }
        });
        if audience.plain {
            let lines =
                plain.lines(&l, clock.tick_s, &world_refs.spec.scene, &world_refs.b, audience.lang);
            for line in lines {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        egui::RichText::new(&line.number)
                            .size(30.0)
                            .strong()
                            .color(egui::Color32::from_rgb(255, 190, 90)),
                    );
                    ui.label(egui::RichText::new(&line.text).size(16.0));
                });
                ui.add_space(6.0);
            }
            ui.separator();
            ui.label(egui::RichText::new(chrome.sources).small().weak());
            return;
        }
        let saved = if k.co2_baseline_kg > 0.0 { 1.0 - k.co2_kg / k.co2_baseline_kg } else { 0.0 };
        ui.horizontal(|ui| {
            big_number(ui, tr(lang, "waste heat recovered"), tf(lang, "{:.1} MWh", &[&(k.waste_heat_recovered_kwh / 1e3)]), tr(lang, "heat the heat pumps took from the quantum sites"));
            big_number(ui, tr(lang, "heat from quantum sites"), tf(lang, "{:.1} %", &[&(100.0 * k.waste_heat_share)]), tr(lang, "recovered waste heat / delivered heat"));
        });
        ui.horizontal(|ui| {
            big_number(ui, tr(lang, "unmet heat"), tf(lang, "{:.2} MWh", &[&(k.unmet_heat_kwh / 1e3)]), tr(lang, "demand the network could not meet"));
            big_number(ui, tr(lang, "CO₂ vs baseline"), tf(lang, "{:+.1} %", &[&(-100.0 * saved)]), tr(lang, "against gas boilers for the heat delivered + a remote data centre; the unmet heat's gas CO₂ is shown apart"));
        });
        ui.horizontal(|ui| {
            big_number(ui, tr(lang, "renewable share"), tf(lang, "{:.0} %", &[&(100.0 * k.renewable_share)]), tr(lang, "electricity load met by local PV and wind"));
            big_number(ui, tr(lang, "heat delivered"), tf(lang, "{:.0} MWh", &[&(k.heat_delivered_kwh / 1e3)]), "");
        });
        ui.horizontal(|ui| {
            big_number(
                ui,
                tr(lang, "quantum jobs done / missed"),
                format!("{} / {}", k.quantum_jobs_completed, k.quantum_jobs_missed_deadline),
                tr(lang, "jobs from city services (traffic, grid balancing, sensing); rejected jobs are counted in the report"),
            );
            big_number(
                ui,
                tr(lang, "job success · wait"),
                tf(lang, "{:.0} % · {:.1} s", &[&(100.0 * k.mean_job_success_probability), &k.mean_job_wait_s]),
                tr(lang, "mean estimated success probability on the sites' current calibration, and mean queue wait"),
            );
        });
        {
            let (share, exposure, line) = link_panel_text(&k, lang);
            ui.horizontal(|ui| {
                big_number(ui, tr(lang, "job data on quantum-safe links"), share, tr(lang, "hybrid X25519+ML-KEM-768, pure ML-KEM-768 or QKD key exchange, really performed for every session"));
                big_number(ui, tr(lang, "harvest-now exposure"), exposure, tr(lang, "job data sent over classical key exchange whose secrecy lifetime plus migration time outlasts the horizon for a cryptographically relevant quantum computer (Mosca's inequality)"));
            });
            ui.label(egui::RichText::new(line).small());
        }
        ui.label(tf(
            lang,
            "sites' PUE {:.2} with their cooling vs {:.2} remote · unmet heat's gas CO₂ {:.0} kg",
            &[&k.local_pue, &crate::ledger::REMOTE_DC_PUE, &k.co2_unmet_heat_kg],
        ));
        ui.label(tf(
            lang,
            "QAOA approximation ratio {:.3} · latency {:.2} ms local vs {:.1} ms remote · {} rejected",
            &[&k.mean_qaoa_approximation_ratio, &k.mean_latency_ms_local, &k.mean_latency_ms_remote, &k.quantum_jobs_rejected],
        ));
        {
            let s = &world_refs.sites;
            let busy: f64 = s.utilisation.iter().sum::<f64>() / s.len().max(1) as f64;
            ui.label(tf(
                lang,
                "{} quantum sites · mean load {:.0} % · {:.0} kW electricity · {:.0} kW heat recovered",
                &[
                    &s.len(),
                    &(100.0 * busy),
                    &(s.electricity_w.iter().sum::<f64>() / 1e3),
                    &(s.recovered_w.iter().sum::<f64>() / 1e3),
                ],
            ));
        }
        ui.separator();
        let h = &*hist;
        ui.label(tr(lang, "heat produced and from heat pumps (MW)"));
        Plot::new("heat").height(110.0).legend(Legend::default()).show(ui, |p| {
            p.line(line(tr(lang, "network heat"), &h.t_h, &h.heat_mw));
            p.line(line(tr(lang, "heat pumps"), &h.t_h, &h.hp_mw));
        });
        ui.label(tr(lang, "share of heat from quantum waste heat (%) · renewable share (%)"));
        Plot::new("share").height(110.0).legend(Legend::default()).show(ui, |p| {
            p.line(line(tr(lang, "waste heat"), &h.t_h, &h.waste_share));
            p.line(line(tr(lang, "renewable"), &h.t_h, &h.renewable));
        });
        ui.label(tr(lang, "CO₂ so far (t): twin vs baseline"));
        Plot::new("co2").height(110.0).legend(Legend::default()).show(ui, |p| {
            let t: Vec<f64> = h.co2_kg.iter().map(|x| x / 1e3).collect();
            let b: Vec<f64> = h.co2_base_kg.iter().map(|x| x / 1e3).collect();
            p.line(line(tr(lang, "twin"), &h.t_h, &t));
            p.line(line(tr(lang, "baseline"), &h.t_h, &b));
        });
        ui.label(tr(lang, "unmet heat (kW)"));
        Plot::new("unmet").height(90.0).show(ui, |p| {
            p.line(line(tr(lang, "unmet"), &h.t_h, &h.unmet_kw));
        });
        ui.label(egui::RichText::new(tf(lang, "energy balance error ≤ {}", &[&format!("{:.1e}", k.max_energy_balance_error_rel)])).small());
    }).response.rect.width();
    }

    if let Some(p) = sel.pick {
        egui::Window::new(tr(lang, "Inspect"))
            .default_pos(egui::pos2(if show_side { 240.0 } else { 10.0 }, 80.0))
            .show(ctx, |ui| {
                inspect(
                    ui,
                    p,
                    &world_refs,
                    &sel.history,
                    &mut selected_sensors,
                    lang,
                );
            });
    }
    over_ui.0 = ctx.is_pointer_over_egui() || ctx.egui_wants_pointer_input();
    Ok(())
}

/// Shown instead of the city when the scene cannot be loaded.
pub fn error_panel(
    mut contexts: EguiContexts,
    errors: Res<SceneErrors>,
    mut over_ui: ResMut<PointerOverUi>,
    audience: Option<Res<super::Audience>>,
) -> Result {
    let lang = audience.map_or(Lang::En, |a| a.lang);
    let ctx = contexts.ctx_mut()?.clone();
    let msg = errors.0.clone().unwrap_or_default();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "qtwin_root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::CentralPanel::default().show(&mut root, |ui| {
        ui.heading(tr(lang, "This scene cannot be loaded"));
        ui.add_space(8.0);
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label(
                egui::RichText::new(msg)
                    .monospace()
                    .color(egui::Color32::from_rgb(220, 80, 60)),
            );
        });
        ui.add_space(8.0);
        ui.label(tr(
            lang,
            "Fix the file and open it again (`qtwin check FILE` prints the same list).",
        ));
    });
    over_ui.0 = true;
    Ok(())
}

/// Read access to the world state the inspector shows.
#[derive(bevy::ecs::system::SystemParam)]
pub struct WorldRefs<'w> {
    pub spec: Res<'w, SceneSpec>,
    pub net: Res<'w, Network>,
    pub hs: Res<'w, HydraulicState>,
    pub th: Res<'w, ThermalState>,
    pub c: Res<'w, Consumers>,
    pub b: Res<'w, Buildings>,
    pub st: Res<'w, Stations>,
    pub sites: Res<'w, Sites>,
    pub grid: Res<'w, GridState>,
    pub sensors: Option<Res<'w, crate::alarms::Sensors>>,
    pub links: Option<Res<'w, crate::links::DataLinkState>>,
}

/// A building's use as the inspector names it (the German is in [`super::words`]).
pub fn use_name(u: crate::scene::BuildingUse) -> &'static str {
    use crate::scene::BuildingUse as U;
    match u {
        U::Residential => "Residential",
        U::Office => "Office",
        U::Retail => "Retail",
        U::School => "School",
        U::Hospital => "Hospital",
        U::Industrial => "Industrial",
    }
}

fn row(ui: &mut egui::Ui, k: &str, v: String) {
    ui.label(k);
    ui.label(egui::RichText::new(v).monospace());
    ui.end_row();
}

/// The selected object's sensors, found once per selection (not by a pass over every sensor of
/// the city each frame).
#[derive(Default)]
pub struct SelectedSensors {
    key: Option<(Pick, bevy::ecs::change_detection::Tick, usize)>,
    rows: Vec<usize>,
}

fn inspect(
    ui: &mut egui::Ui,
    p: Pick,
    w: &WorldRefs,
    history: &[(f64, f64, f64)],
    found: &mut SelectedSensors,
    lang: Lang,
) {
    let i = p.index as usize;
    let scene = &w.spec.scene;
    let (a_name, b_name) = match p.kind {
        Kind::Building => {
            let bd = &scene.buildings[i];
            ui.heading(tf(lang, "Building {}", &[&bd.id]));
            egui::Grid::new("ins").num_columns(2).show(ui, |ui| {
                let use_ = tr(lang, use_name(bd.use_));
                row(
                    ui,
                    tr(lang, "use"),
                    tf(lang, "{}, {} floors", &[&use_, &bd.floors]),
                );
                row(
                    ui,
                    tr(lang, "heated area"),
                    tf(lang, "{:.0} m²", &[&w.b.heated_area_m2[i]]),
                );
                row(
                    ui,
                    tr(lang, "heat-loss coefficient"),
                    tf(lang, "{:.0} W/K", &[&w.b.h_w_k[i]]),
                );
                row(
                    ui,
                    tr(lang, "space heating"),
                    tf(lang, "{:.1} kW", &[&(w.b.space_heat_w[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "hot water"),
                    tf(lang, "{:.1} kW", &[&(w.b.dhw_w[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "indoor temperature"),
                    tf(
                        lang,
                        "{:.1} °C (τ = {:.0} h)",
                        &[
                            &(w.b.indoor_temp_c()[i]),
                            &(w.b.time_constant_s(i) / 3600.0),
                        ],
                    ),
                );
                row(
                    ui,
                    tr(lang, "delivered"),
                    tf(lang, "{:.1} kW", &[&(w.c.delivered_w()[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "unmet"),
                    tf(lang, "{:.2} kW", &[&(w.c.unmet_w()[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "mass flow"),
                    tf(lang, "{:.3} kg/s", &[&w.c.mass_flow_kg_s[i]]),
                );
                if let Some(n) = bd.node.as_ref().and_then(|n| w.net.node(n)) {
                    row(
                        ui,
                        tr(lang, "supply temperature"),
                        tf(lang, "{:.1} °C", &[&(w.th.supply_node_temp_c[n as usize])]),
                    );
                    row(
                        ui,
                        tr(lang, "differential pressure"),
                        tf(
                            lang,
                            "{:.0} kPa",
                            &[&((w.hs.supply_pressure_pa[n as usize]
                                - w.hs.return_pressure_pa[n as usize])
                                / 1e3)],
                        ),
                    );
                }
                row(
                    ui,
                    tr(lang, "return temperature"),
                    tf(lang, "{:.1} °C", &[&(w.c.return_out_c()[i])]),
                );
                row(
                    ui,
                    tr(lang, "electricity"),
                    tf(lang, "{:.1} kW", &[&(w.b.electricity_w[i] / 1e3)]),
                );
            });
            (tr(lang, "delivered kW"), tr(lang, "unmet kW"))
        }
        Kind::Pipe => {
            ui.heading(tf(lang, "Pipe {}", &[&w.net.pipe_ids[i]]));
            egui::Grid::new("ins").num_columns(2).show(ui, |ui| {
                row(
                    ui,
                    tr(lang, "length / inner diameter"),
                    tf(
                        lang,
                        "{:.0} m / {:.0} mm",
                        &[&w.net.pipe_length_m[i], &(1e3 * w.net.pipe_diameter_m[i])],
                    ),
                );
                row(
                    ui,
                    tr(lang, "mass flow"),
                    tf(lang, "{:.2} kg/s", &[&w.hs.pipe_flow_kg_s[i]]),
                );
                row(
                    ui,
                    tr(lang, "velocity"),
                    tf(lang, "{:.2} m/s", &[&(w.hs.velocity_m_s(&w.net, i))]),
                );
                row(
                    ui,
                    tr(lang, "supply in → out"),
                    tf(
                        lang,
                        "{:.2} → {:.2} °C",
                        &[&w.th.supply_in_c[i], &w.th.supply_out_c[i]],
                    ),
                );
                row(
                    ui,
                    tr(lang, "return in → out"),
                    tf(
                        lang,
                        "{:.2} → {:.2} °C",
                        &[&w.th.return_in_c[i], &w.th.return_out_c[i]],
                    ),
                );
                row(
                    ui,
                    tr(lang, "heat loss"),
                    tf(lang, "{:.2} kW", &[&(w.th.pipe_loss_w[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "loss coefficient"),
                    tf(lang, "{:.3} W/(m·K)", &[&w.net.pipe_loss_w_mk[i]]),
                );
            });
            (tr(lang, "mass flow kg/s"), tr(lang, "supply outlet °C"))
        }
        Kind::Site => {
            let s = &w.sites;
            ui.heading(tf(lang, "Quantum site {}", &[&s.ids[i]]));
            egui::Grid::new("ins").num_columns(2).show(ui, |ui| {
                row(ui, tr(lang, "qubits"), tf(lang, "{}", &[&s.qubits[i]]));
                row(
                    ui,
                    tr(lang, "online"),
                    tr(lang, if s.online[i] { "yes" } else { "no" }).to_string(),
                );
                row(
                    ui,
                    tr(lang, "utilisation"),
                    tf(lang, "{:.0} %", &[&(100.0 * s.utilisation[i])]),
                );
                row(
                    ui,
                    tr(lang, "electricity"),
                    tf(lang, "{:.0} kW", &[&(s.electricity_w[i] / 1e3)]),
                );
                row(
                    ui,
                    tr(lang, "recoverable heat"),
                    tf(
                        lang,
                        "{:.0} kW at {:.0} °C",
                        &[&(s.recoverable_w[i] / 1e3), &s.water_temp_c[i]],
                    ),
                );
                row(
                    ui,
                    tr(lang, "recovered by heat pump"),
                    tf(lang, "{:.0} kW", &[&(s.recovered_w[i] / 1e3)]),
                );
                if let Some(st) = &w.links {
                    for (k, l) in st.links.iter().enumerate().filter(|(_, l)| l.site == i) {
                        row(
                            ui,
                            &tf(lang, "link from {}", &[&tr(lang, l.service.name())]),
                            site_link_text(st, k, lang),
                        );
                    }
                }
            });
            (tr(lang, "electricity kW"), tr(lang, "recovered kW"))
        }
        Kind::Plant => {
            let pl = &scene.plants[i];
            ui.heading(tf(lang, "Plant {}", &[&(pl.id())]));
            if let Some(node) = w.net.node(pl.node())
                && let Some(s) = w.st.node.iter().position(|&n| n == node)
            {
                let st = &w.st;
                egui::Grid::new("ins").num_columns(2).show(ui, |ui| {
                    row(
                        ui,
                        tr(lang, "station heat"),
                        tf(lang, "{:.2} MW", &[&(st.heat_w[s] / 1e6)]),
                    );
                    row(
                        ui,
                        tr(lang, "mass flow"),
                        tf(lang, "{:.1} kg/s", &[&st.mass_flow_kg_s[s]]),
                    );
                    row(
                        ui,
                        tr(lang, "supply / return"),
                        tf(
                            lang,
                            "{:.1} / {:.1} °C",
                            &[&st.supply_out_c[s], &(st.return_in_c()[s])],
                        ),
                    );
                    row(
                        ui,
                        tr(lang, "heat pumps"),
                        tf(
                            lang,
                            "{:.2} MW at COP {:.2}",
                            &[&(st.hp_heat_w[s] / 1e6), &st.hp_cop[s]],
                        ),
                    );
                    row(
                        ui,
                        tr(lang, "boilers"),
                        tf(lang, "{:.2} MW", &[&(st.boiler_heat_w[s] / 1e6)]),
                    );
                    row(
                        ui,
                        tr(lang, "tank"),
                        tf(lang, "{:+.2} MW", &[&(st.tank_charge_w[s] / 1e6)]),
                    );
                    row(
                        ui,
                        tr(lang, "pump head / power"),
                        tf(
                            lang,
                            "{:.0} kPa / {:.1} kW",
                            &[
                                &(w.hs.station_head_pa[s] / 1e3),
                                &(w.hs.station_pump_power_w[s] / 1e3),
                            ],
                        ),
                    );
                });
            }
            ("", "")
        }
        Kind::Wind => {
            ui.heading(tr(lang, "Wind turbine"));
            ui.label(tf(
                lang,
                "all turbines: {:.2} MW",
                &[&(w.grid.wind_w / 1e6)],
            ));
            ("", "")
        }
        _ => ("", ""),
    };
    // What the object's instruments read: the operator's values (they can drift or freeze; the
    // rows above are the model's).
    let id = match p.kind {
        Kind::Building => scene.buildings.get(i).map(|b| b.id.clone()),
        Kind::Pipe => w.net.pipe_ids.get(i).cloned(),
        Kind::Site => scene.quantum_sites.get(i).map(|s| s.id.clone()),
        Kind::Plant => scene.plants.get(i).map(|p| p.id().to_string()),
        Kind::Node => w.net.node_ids.get(i).cloned(),
        _ => None,
    };
    if let (Some(id), Some(sensors)) = (id, w.sensors.as_ref()) {
        let key = (p, w.spec.last_changed(), sensors.sensors.len());
        if found.key != Some(key) {
            found.rows = (0..sensors.sensors.len())
                .filter(|&k| sensors.sensors[k].object == id)
                .collect();
            found.key = Some(key);
        }
        let mine = found.rows.clone();
        if !mine.is_empty() {
            ui.label(egui::RichText::new(tr(lang, "instruments (as measured)")).strong());
            egui::Grid::new("ins_sensors")
                .num_columns(2)
                .show(ui, |ui| {
                    for k in mine {
                        let sn = &sensors.sensors[k];
                        let frozen = if sensors.frozen[k].is_some() {
                            tr(lang, " (frozen)")
                        } else {
                            ""
                        };
                        row(
                            ui,
                            &format!("{:?}", sn.quantity),
                            tf(
                                lang,
                                "{:.2} {}{}",
                                &[&sensors.measured[k], &sn.unit, &frozen],
                            ),
                        );
                    }
                });
        }
    }
    if !a_name.is_empty() && history.len() > 1 {
        let t: Vec<f64> = history.iter().map(|x| x.0).collect();
        let a: Vec<f64> = history.iter().map(|x| x.1).collect();
        let b: Vec<f64> = history.iter().map(|x| x.2).collect();
        Plot::new("ins_plot")
            .height(120.0)
            .width(320.0)
            .legend(Legend::default())
            .show(ui, |pl| {
                pl.line(line(a_name, &t, &a));
                pl.line(line(b_name, &t, &b));
            });
    }
}

/// The dark rounded frame of the toggles at the bottom right (planner, control room).
pub fn toolbar_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(egui::Color32::from_rgba_unmultiplied(24, 26, 32, 230))
        .corner_radius(6.0)
        .inner_margin(4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_panel_shows_share_exposure_and_latency_by_scheme() {
        let base = Kpis::from_ledger(&Ledger::default());
        let k = Kpis {
            link_quantum_safe_share: 0.16137,
            link_exposed_mb: 0.574_321,
            link_exposed_jobs: 41,
            link_handshakes: 216,
            link_kex_failures: 3,
            link_classical_fallback_sessions: 1,
            link_added_latency_ms_mean: 0.3149,
            link_added_latency_ms_classical: 0.281,
            link_added_latency_ms_hybrid: 0.4567,
            link_added_latency_ms_qkd: 0.0,
            link_added_latency_ms_pure_mlkem: 0.0,
            ..base.clone()
        };
        let (share, exposure, line) = link_panel_text(&k, Lang::En);
        assert_eq!(share, "16.1 %");
        // 574,321 B.
        assert_eq!(exposure, "574 kB · 41 jobs");
        assert_eq!(
            line,
            "key exchange + encryption add 0.31 ms a job (classical 0.28, hybrid 0.46 ms) · 216 handshakes, 3 failed, 1 QKD sessions fell back to classical"
        );
        let de = link_panel_text(&k, Lang::De);
        assert_eq!(de.0, "16,1 %");
        assert_eq!(de.1, "574 kB · 41 Aufträge");
        assert_eq!(
            de.2,
            "Schlüsselaustausch + Verschlüsselung kosten 0,31 ms je Auftrag (klassisch 0,28, hybrid 0,46 ms) · 216 Handshakes, 3 gescheitert, 1 QKD-Sitzungen fielen auf klassisch zurück"
        );
        let none = link_panel_text(&base, Lang::En);
        assert_eq!(none.0, "0.0 %");
        assert_eq!(none.1, "0 B · 0 jobs");
        assert!(none.2.starts_with(
            "key exchange + encryption add 0.00 ms a job (no jobs yet) · 0 handshakes"
        ));
    }

    #[test]
    fn time_bar_keys() {
        let mut c = SimControl::default();
        assert_eq!((c.speed, c.paused), (600.0, false));
        assert!(time_key(&mut c, KeyCode::Space));
        assert!(c.paused);
        // A step only while paused.
        assert!(time_key(&mut c, KeyCode::Period));
        assert!(c.step_requested);
        assert!(time_key(&mut c, KeyCode::Digit4));
        assert_eq!((c.speed, c.paused), (3600.0, false));
        c.step_requested = false;
        assert!(!time_key(&mut c, KeyCode::Period));
        assert!(!c.step_requested);
        assert!(time_key(&mut c, KeyCode::Numpad1));
        assert_eq!(c.speed, 1.0);
        assert!(!time_key(&mut c, KeyCode::KeyW), "W pans the camera");
    }

    #[test]
    fn bytes_in_human_units() {
        assert_eq!(human_bytes(999.0, Lang::En), "999 B");
        assert_eq!(human_bytes(1_000.0, Lang::En), "1.00 kB");
        assert_eq!(human_bytes(57_400.0, Lang::En), "57.4 kB");
        assert_eq!(human_bytes(574_321.0, Lang::En), "574 kB");
        assert_eq!(human_bytes(2.5e6, Lang::En), "2.50 MB");
        assert_eq!(human_bytes(3.21e9, Lang::En), "3.21 GB");
        assert_eq!(human_bytes(57_400.0, Lang::De), "57,4 kB");
    }
}
