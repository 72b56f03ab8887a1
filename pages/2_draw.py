"""Draw & reconstruct: your digit, preprocessed like MNIST, through every autoencoder, the classifier, and whether it is a
digit at all (the not-a-digit detector, rep_models.ood, with the autoencoder's anomaly score beside it)."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import streamlit as st

from rep_models import catalogue, gibbs, ood
from rep_models.anomaly import ANOMALY_MODEL, anomaly_score, free_energy_score
from rep_models.predict import RECONSTRUCTORS, reconstruct_all, top_k
from ui import common as ui
from ui import i18n
from ui.i18n import t

SHORT = {n: catalogue.entry(n).short for n in RECONSTRUCTORS}

ui.page_header(t("nav.draw"), t("draw.what"), t("draw.try"))

with ui.page_guard("Draw & reconstruct"):
    left, right = st.columns([1.1, 2], gap="large")
    with left:
        x = ui.digit_input("draw")
    with right:
        if x is None:
            st.markdown(f":gray[{t('draw.waiting')}]")
        else:
            steps = ui.last_steps("draw")
            with st.container(key="draw_steps"):  # on a phone it goes below the results (ui/layout.py), under the canvas
                st.markdown(f"##### {t('draw.how_seen')}")
                st.caption(t("draw.prepared"))
                stages = steps.stages()
                ui.show_images([img for _, img in stages], [i18n.tr(cap) for cap, _ in stages], width=96, square=True)

            # Every autoencoder once; the anomaly score reuses the conv AE's reconstruction from these.
            models = {n: m for n in RECONSTRUCTORS if ui.is_available(n) and (m := ui.require_model(n)) is not None}
            recs = reconstruct_all(models, x) if models else []

            st.markdown(f"##### {t('draw.what_it_is')}")
            c1, c2 = st.columns(2, gap="large")
            verdict = None  # the not-a-digit detector's (rep_models.ood), when the classifier is there
            with c1:
                clf = ui.require_model("classifier", t("draw.the_prediction"))
                if clf is not None:
                    top = top_k(clf, x, 3)
                    dets = ui.not_a_digit_detectors()
                    verdict = None if dets is None else ood.judge(dets, clf, x, top, ui.last_source("draw"))
                    sure = t("draw.unreliable") if verdict is not None and verdict.flagged else t("draw.sure", pct=f"{top[0][1]:.0%}")
                    st.metric(t("draw.says"), f"{top[0][0]}", sure, delta_color="off", delta_arrow="off")
                    for digit, p in top:
                        st.progress(min(1.0, p), text=f"{digit}: {p:.1%}")
            with c2:
                box = {"digit": st.success, "unusual": st.info, "not a digit": st.warning}
                if verdict is not None:
                    st.metric(t("draw.ood_metric"), f"{verdict.percentile:.1f}", help=t("draw.ood_help"))
                    box[verdict.level](f"**{i18n.tr(verdict.headline)}** {i18n.tr(verdict.why)}")
                if ui.is_available(ANOMALY_MODEL):
                    ref = ui.anomaly_reference()
                    ae = ui.require_model(ANOMALY_MODEL, t("draw.the_anomaly"))
                    if ae is None:
                        pass
                    elif ref is None:
                        st.info(t("draw.no_reference"))
                    else:
                        mine = [r for r in recs if r.name == ANOMALY_MODEL]
                        err = (mine or reconstruct_all({ANOMALY_MODEL: ae}, x))[0].mse
                        a = anomaly_score(err, ref)
                        if verdict is not None:  # the autoencoder's own score, beside the verdict
                            st.caption(i18n.tr(ood.autoencoder_line(a.percentile, a.verdict)))
                        else:
                            st.metric(t("draw.anomaly_metric"), f"{a.percentile:.1f}", help=t("draw.anomaly_help"))
                            box[a.verdict](i18n.tr(a.message))
                elif verdict is None:
                    ui.require_model(ANOMALY_MODEL, t("draw.the_anomaly"))
                energies = ui.free_energy_reference()  # the RBM's own score: how likely it finds the digit
                if energies is not None:
                    e = free_energy_score(float(gibbs.free_energy(ui.load_model("rbm"), x[None])[0]), energies)
                    st.caption(t("draw.energy_line", f=f"{e.error:.1f}", pct=f"{e.percentile:.1f}", said=t(f"draw.energy.{e.verdict}")),
                               help=t("draw.energy_help"))

            st.markdown(f"##### {t('draw.reconstructions')}")
            if not models:
                st.info(t("draw.no_autoencoder"))
            else:
                best = min(recs, key=lambda r: r.mse).name
                st.caption(t("draw.rec_caption", best=i18n.model(best, "short")))
                ui.show_images([x] + [r.image for r in recs],
                               [t("draw.your_input")] + [f"{i18n.model(r.name, 'short')} · {r.mse:.4f}" for r in recs], width=96, columns=6)
                missing = [i18n.model(n, "short") for n in RECONSTRUCTORS if n not in models]
                if missing:
                    st.caption(t("draw.missing", names=", ".join(missing)))
