"""Latent map: the 10,000 MNIST test digits placed in 2-D by PCA, t-SNE or UMAP of each representation."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import streamlit as st

from rep_models import exports
from rep_models import live_projection as LP
from rep_models.codes import as_batch
from rep_models.images import tile
from rep_models.neighbours import METRICS, nearest
from ui import common as ui
from ui import downloads, i18n, latent, links, live
from ui.i18n import Later, t

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MAX_SHOWN = 48  # selected digits shown as images
PLACES = {"none": None, "draw": "Draw", "upload": "Upload", "test": "Test digit"}  # a link's place=… -> ui.digit_input's source

ui.page_header(t("nav.latent_map"), t("map.what"), t("map.try"))

try:
    from rep_models import projections as P
except ImportError:  # the projections module is not installed yet
    P = None


def _title(rep: str) -> str:
    return t("map.pixels") if rep == "pixels" else (i18n.model(rep) if rep in ui.MODEL_INFO else rep)


def available_maps() -> dict[str, list[str]]:
    """``{rep: [methods with a shipped map]}`` for the representations whose files are installed."""
    out = {}
    for rep in P.REPS:
        methods = [m for m in METHODS if P.path_for(rep, m).is_file()]
        if methods:
            out[rep] = methods
    return out


@st.cache_resource(show_spinner=Later("spin.map"), max_entries=64)
def load_map(rep: str, method: str) -> dict[str, np.ndarray]:
    m = dict(P.load_projection(rep, method))
    m["coords"] = m["coords"].astype(np.float32)  # stored as float16, which plotly cannot send as a typed array
    return m


@st.cache_resource(show_spinner=False, max_entries=16)
def reference_codes(rep: str) -> tuple[np.ndarray, dict[int, int]] | None:
    """The codes of the map's digits in the representation's own space, and test-set index -> row: the shipped
    reference (the encoder's code; raw pixels reduced to their top 50 principal components), or None."""
    try:
        ref = P.load_reference(rep)
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return None
    return ref["ref"].astype(np.float32), {int(i): r for r, i in enumerate(np.asarray(ref["indices"]).tolist())}


def neighbours_panel(rep: str, picked: int) -> None:
    """The picked digit's nearest neighbours in the code space, as thumbnails with their distances."""
    x, y = ui.test_set()
    st.markdown(f"##### {t('map.nb_title', id=picked)}")
    c_k, c_metric = st.columns(2)
    with c_k:
        k = links.slider(t("map.nb_k"), 4, 24, 8, key="map_nb_k", param="k")
    with c_metric:
        metric = links.radio(t("map.nb_metric"), list(METRICS), key="map_nb_metric", param="metric", horizontal=True,
                             format_func=lambda m: t(f"map.nb_metric.{m}"))
    ref = reference_codes(rep)
    if ref is None and rep == "pixels":  # no shipped reference: the pixels themselves are the space
        ref = x.reshape(len(x), -1).numpy(), {i: i for i in range(len(x))}
    if ref is None or picked not in ref[1]:
        st.caption(t("map.nb_missing"))
        return
    codes, row_of = ref
    index_of = {r: i for i, r in row_of.items()}
    rows, dist = nearest(codes, row_of[picked], k, metric)
    ids = [index_of[int(r)] for r in rows]
    ui.show_images([x[picked, 0].numpy()] + [x[i, 0].numpy() for i in ids],
                   [t("map.nb_picked", d=int(y[picked]))] + [f"#{i}: {d:.3g}" for i, d in zip(ids, dist, strict=True)],
                   width=56, columns=4)
    same = sum(int(y[i]) == int(y[picked]) for i in ids)
    st.caption(t("map.nb_caption", same=same, k=len(ids), d=int(y[picked])))


@st.cache_resource(show_spinner=Later("spin.map_place"), max_entries=32)
def placer(rep: str, method: str):
    p = P.placer(rep, method)
    dim = len(p.mean)
    p(np.zeros(dim, np.float32))  # warm up (t-SNE's first placement compiles and allocates)
    return p


def quality_table(report: dict, avail: dict[str, list[str]]) -> list[dict]:
    proj = report.get("projections", {}) if isinstance(report.get("projections"), dict) else {}
    rows = []
    for rep, methods in avail.items():
        row = {t("map.representation_col"): _title(rep)}
        for m in METHODS:
            q = proj.get(rep, {}).get(m, {}) if isinstance(proj.get(rep), dict) else {}
            knn, tw = q.get("knn10_accuracy"), q.get("trustworthiness")
            row[t("map.knn_col", method=METHODS[m])] = f"{100 * knn:.1f} %" if isinstance(knn, (int, float)) else ("…" if m in methods else "—")
            row[t("map.trust_col", method=METHODS[m])] = f"{tw:.3f}" if isinstance(tw, (int, float)) else ("…" if m in methods else "—")
        rows.append(row)
    return rows


def _picked_in_map() -> None:
    st.session_state["map_pick_from"] = "map"


def _found() -> None:
    st.session_state["map_pick_from"] = "find"


@ui.fragment
def map_panel(rep: str, method: str, colour: bool, image: np.ndarray | None, visible: list[int] | None) -> None:
    """The scatter and what is selected in it: a selection (or the map's ask for thumbnails) reruns only this fragment."""
    m = load_map(rep, method)
    key = f"map_chart_{rep}_{method}"
    x, y = ui.test_set()
    found = st.session_state.get("map_find") if st.session_state.get("map_pick_from", "find") == "find" else None
    if found is not None and found not in set(m["indices"].tolist()):
        st.caption(t("map.find_missing", id=found))
        found = None
    want = live.map_asks(key)  # zoomed in: the thumbnails the map asked for, sent now (never on a first load)
    thumbs = live.thumb_sheet(x[want[:live.THUMB_BATCH], 0].numpy(), want) if want else None
    mark = None
    if image is not None:
        try:
            code = P.codes_for(rep, as_batch(image), model=None if rep == "pixels" else ui.load_model(rep))
            mark = placer(rep, method)(code[0])
        except (ValueError, FileNotFoundError) as e:
            st.caption(t("map.cannot_place", why=i18n.tr(str(e))))
    c_map, c_sel = st.columns([3, 2], gap="medium")
    with c_map:
        state = live.scatter_map(m["coords"], m["labels"], m["indices"], COLOURS if colour else None, mark, key=key,
                                 visible=visible, focus=found, thumbs=thumbs, on_select=_picked_in_map)
        rows = [found] if found is not None else sorted(set(state.selection))
        st.caption(t("map.how"))
    with c_sel:
        if not rows:
            st.info(t("map.empty"), icon=":material/gesture_select:")
            return
        labels = y[rows].numpy()
        counts = np.bincount(labels, minlength=10)
        st.markdown(t("map.selected", n=f"{len(rows):,}", d=counts.argmax(), pct=f"{100 * counts.max() / len(rows):.0f}"))
        shown = rows[:MAX_SHOWN]
        latent.show_image(tile(x[shown, 0].numpy(), ncols=8), scale=2)
        if len(rows) > MAX_SHOWN:
            st.caption(t("map.first", k=MAX_SHOWN, n=f"{len(rows):,}"))
        st.bar_chart({t("map.digits"): counts}, height=160, x_label=t("map.digit"), y_label=t("map.selected_axis"))
        if len(rows) == 1:
            neighbours_panel(rep, rows[0])
        c_csv, c_png = st.columns(2)
        with c_csv:
            downloads.button(t("map.dl_csv"), lambda: exports.map_selection_csv(rows, m["indices"], m["labels"], m["coords"]),
                             f"{rep}_{method}_selection.csv", key="map_dl_csv",
                             help=t("map.dl_csv_help"))
        with c_png:
            downloads.button(t("map.dl_png"), lambda: exports.png(tile(x[shown, 0].numpy(), ncols=8)), f"{rep}_{method}_selection.png",
                             key="map_dl_png", help=t("map.dl_png_help", k=MAX_SHOWN))


POLL = 0.75  # seconds between two looks at a live layout
LIVE_PARAMS = ("live", "subset", "perplexity", "n_neighbors", "min_dist")  # the live run's link parameters


def _start_layout(rep: str) -> None:
    """Start a run with the controls' values as they are at the click (read here: a callback's arguments are those
    of the run before, which a slider moved just before the click has not had)."""
    ss = st.session_state
    method, n = ss.get("map_live_method") or "tsne", int(ss.get("map_live_n", 3000))
    perplexity, n_neighbors = float(ss.get("map_live_perplexity", P.TSNE_PERPLEXITY)), int(ss.get("map_live_k", P.UMAP_K))
    min_dist = float(ss.get("map_live_min_dist", 0.1))
    ref = reference_codes(rep)
    if ref is None:
        return
    codes, row_of = ref
    index_of = np.array(sorted(row_of, key=row_of.get))  # row -> test-set index
    rows = LP.subset(len(codes), min(n, len(codes)))
    _, y = ui.test_set()
    ids = index_of[rows]
    job = LP.LayoutJob(codes[rows], method, perplexity=perplexity, n_neighbors=n_neighbors, min_dist=min_dist,
                       labels=y[ids].numpy(), ids=ids, rep=rep)
    if latent.layout_slot().claim(job):
        st.session_state["map_live_job"] = job
        st.session_state["map_live_polling"] = True
    else:
        st.session_state["map_live_busy"] = True


def show_layout(job: LP.LayoutJob, colour: bool) -> None:
    """The live layout as it iterates (a fragment polling the job while it runs)."""
    job.heartbeat()
    s = job.snapshot()
    what = t(f"map.live.phase.{s.phase}")
    st.markdown(t("map.live.progress", method=METHODS[job.method], n=f"{len(job.ids):,}", step=s.step, total=s.total,
                  what=what, s=f"{s.seconds:.1f}"))
    st.progress(min(1.0, s.step / max(1, s.total)))
    if s.coords is not None:
        want = live.map_asks("map_live_chart")
        x, _ = ui.test_set()
        thumbs = live.thumb_sheet(x[want[:live.THUMB_BATCH], 0].numpy(), want) if want else None
        live.scatter_map(s.coords, job.labels, job.ids, COLOURS if colour else None, None, key="map_live_chart",
                         height=480, live_run=True, thumbs=thumbs)
    else:
        st.caption(t("map.live.neighbours"))
    if s.error:
        st.error(t("map.live.error"))
    elif s.stopped:
        st.caption(t(f"map.live.stopped.{s.stopped}", s=f"{LP.MAX_SECONDS:.0f}"))
    if not s.running and st.session_state.get("map_live_polling"):
        st.session_state["map_live_polling"] = False
        st.rerun(scope="app")  # stop polling


def live_layout(rep: str, colour: bool) -> None:
    """Re-run t-SNE or UMAP on a subset of this representation's digits, drawn as it iterates; one run per server."""
    slot = latent.layout_slot()
    job = slot.current()
    running = job is not None and job.running
    mine = job is not None and st.session_state.get("map_live_job") is job
    if reference_codes(rep) is None:
        st.caption(t("map.nb_missing"))
        return
    c_set, c_show = st.columns([1, 2.4], gap="large")
    with c_set:
        method = links.segmented_control(t("map.method"), list(LP.METHODS), format_func=METHODS.get, key="map_live_method",
                                         param="live", default="tsne", disabled=running)
        links.slider(t("map.live.n"), LP.MIN_POINTS, LP.MAX_POINTS, 3000, 1000, key="map_live_n", param="subset",
                         disabled=running, help=t("map.live.n_help"))
        if method == "tsne":
            links.slider(t("map.live.perplexity"), 5.0, 100.0, 30.0, 1.0, key="map_live_perplexity",
                                      param="perplexity", disabled=running, help=t("map.live.perplexity_help"), format="%.0f")
        else:
            links.slider(t("map.live.n_neighbors"), 2, 100, 15, 1, key="map_live_k", param="n_neighbors",
                                       disabled=running, help=t("map.live.n_neighbors_help"))
            links.slider(t("map.live.min_dist"), 0.0, 0.99, 0.1, 0.01, key="map_live_min_dist", param="min_dist",
                                    disabled=running, help=t("map.live.min_dist_help"))
        if running and mine:
            st.button(t("map.live.stop"), icon=":material/stop:", on_click=job.cancel, key="map_live_stop", type="primary")
        else:
            st.button(t("map.live.start"), icon=":material/play_arrow:", key="map_live_start", type="primary", disabled=running,
                      on_click=_start_layout, args=(rep,))
        st.caption(t("map.live.limits", lo=f"{LP.MIN_POINTS:,}", hi=f"{LP.MAX_POINTS:,}", s=f"{LP.MAX_SECONDS:.0f}"))
    with c_show:
        ui.job_panel(job, running, mine, someone=t("map.live.someone"), busy_key="map_live_busy", busy=t("map.live.busy"),
                     waiting=t("map.live.waiting"), show=show_layout, args=(colour,), poll=POLL)


with ui.page_guard("the latent map"):
    avail = available_maps() if P is not None else {}
    if not avail:
        st.info(t("map.not_installed"), icon=":material/hourglass_top:")
    else:
        left, right = st.columns([1.4, 4], gap="large")
        with left:
            rep = links.selectbox(t("map.representation"), list(avail), format_func=_title, key="map_rep", param="rep",
                                  index=list(avail).index("conv_ae") if "conv_ae" in avail else 0)
            methods = avail[rep]
            method = links.segmented_control(t("map.method"), methods, format_func=METHODS.get, key=f"map_method_{rep}", param="method",
                                             default="umap" if "umap" in methods else methods[0]) or methods[0]
            colour = links.toggle(t("map.colour"), value=True, key="map_colour", param="colour")
            shown = links.multiselect(t("map.labels"), list(range(10)), key="map_labels", param="labels",
                                      placeholder=t("map.labels_all"), help=t("map.labels_help"))
            links.number_input(t("map.find"), 0, 9999, None, key="map_find", param="find", step=1,
                               placeholder=t("map.find_placeholder"), help=t("map.find_help"), on_change=_found)
            st.markdown(f"##### {t('vae.your_digit_title')}")
            src = links.radio(t("map.place"), list(PLACES), key="map_src", param="place", horizontal=True,
                              format_func=lambda p: t("map.none") if p == "none" else ui.source_label(PLACES[p]))
            image = ui.digit_input("map_in", sources=(PLACES[src],), canvas_size=200) if src != "none" else None
        report = ui.metrics()
        q = report.get("projections", {}).get(rep, {}).get(method, {}) if isinstance(report.get("projections"), dict) else {}
        with right:
            c1, c2, c3 = st.columns(3)
            knn, tw = q.get("knn10_accuracy"), q.get("trustworthiness")
            c1.metric(t("map.knn"), f"{100 * knn:.1f} %" if isinstance(knn, (int, float)) else "—", help=t("map.knn_help"))
            c2.metric(t("map.trust"), f"{tw:.3f}" if isinstance(tw, (int, float)) else "—", help=t("map.trust_help"))
            c3.metric(t("map.points"), f"{len(load_map(rep, method)['coords']):,}")
            map_panel(rep, method, colour, image, sorted(shown) or None)
        # a link with the live run's settings opens it (else its closed section would drop them from the link)
        rerun = st.expander(t("map.live.title"), expanded=any(p in st.query_params for p in LIVE_PARAMS), key="map_live",
                            on_change="rerun", icon=":material/replay:")
        if rerun.open:  # drawn only when opened, like the table below
            with rerun:
                live_layout(rep, colour)
        compare = st.expander(t("map.compare"), expanded=False, key="map_compare", on_change="rerun")
        if compare.open:  # drawn only when opened: the grid is a large share of a first load's work in the browser
            with compare:
                st.dataframe(quality_table(report, avail), hide_index=True)
                st.caption(t("map.compare_caption"))
