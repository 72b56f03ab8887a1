"""Draw & reconstruct: your digit, preprocessed like MNIST, through every autoencoder, the classifier, and whether it is a
digit at all (the not-a-digit detector, rep_models.ood, with the autoencoder's anomaly score beside it)."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import streamlit as st

from rep_models import catalogue, ood
from rep_models.anomaly import ANOMALY_MODEL, anomaly_score
from rep_models.predict import RECONSTRUCTORS, reconstruct_all, top_k
from ui import common as ui

SHORT = {n: catalogue.entry(n).short for n in RECONSTRUCTORS}

ui.page_header(
    "Draw & reconstruct",
    "Each autoencoder squeezes your digit through a small code (2 to 32 numbers) and rebuilds it from that code alone: "
    "what comes back shows what it learned about handwriting.",
    "draw a digit, then something that is not a digit (a star, a letter) and watch the anomaly score; "
    "or upload a photo of a digit written on paper.",
)

with ui.page_guard("Draw & reconstruct"):
    left, right = st.columns([1.1, 2], gap="large")
    with left:
        x = ui.digit_input("draw")
    with right:
        if x is None:
            st.markdown(":gray[The preprocessing steps, reconstructions and predictions appear here once there is a digit.]")
        else:
            steps = ui.last_steps("draw")
            st.markdown("##### How the models see it")
            st.caption("Prepared the way MNIST was made: white ink on black, cropped, fitted in 20×20 and centred by its centre of mass.")
            stages = steps.stages()
            ui.show_images([img for _, img in stages], [cap for cap, _ in stages], width=96, square=True)

            # Every autoencoder once; the anomaly score reuses the conv AE's reconstruction from these.
            models = {n: m for n in RECONSTRUCTORS if ui.is_available(n) and (m := ui.require_model(n)) is not None}
            recs = reconstruct_all(models, x) if models else []

            st.markdown("##### What it is")
            c1, c2 = st.columns(2, gap="large")
            verdict = None  # the not-a-digit detector's (rep_models.ood), when the classifier is there
            with c1:
                clf = ui.require_model("classifier", "The prediction")
                if clf is not None:
                    top = top_k(clf, x, 3)
                    dets = ui.not_a_digit_detectors()
                    verdict = None if dets is None else ood.judge(dets, clf, x, top, ui.last_source("draw"))
                    sure = "unreliable: not a digit" if verdict is not None and verdict.flagged else f"{top[0][1]:.0%} sure"
                    st.metric("The classifier says", f"{top[0][0]}", sure, delta_color="off", delta_arrow="off")
                    for digit, p in top:
                        st.progress(min(1.0, p), text=f"{digit}: {p:.1%}")
            with c2:
                box = {"digit": st.success, "unusual": st.info, "not a digit": st.warning}
                if verdict is not None:
                    st.metric("Anomaly: not-a-digit percentile (0–100)", f"{verdict.percentile:.1f}",
                              help="Where your input's distance from the digits, in the classifier's own features, falls among "
                                   "training digits that came the same way (drawn here, or uploaded). Above 99 means not a digit.")
                    box[verdict.level](f"**{verdict.headline}** {verdict.why}")
                if ui.is_available(ANOMALY_MODEL):
                    ref = ui.anomaly_reference()
                    ae = ui.require_model(ANOMALY_MODEL, "The anomaly score")
                    if ae is None:
                        pass
                    elif ref is None:
                        st.info("The anomaly score needs the MNIST test set, which could not be loaded.")
                    else:
                        mine = [r for r in recs if r.name == ANOMALY_MODEL]
                        err = (mine or reconstruct_all({ANOMALY_MODEL: ae}, x))[0].mse
                        a = anomaly_score(err, ref)
                        if verdict is not None:  # the autoencoder's own score, beside the verdict
                            st.caption(ood.autoencoder_line(a.percentile, a.verdict))
                        else:
                            st.metric("Anomaly percentile (0–100)", f"{a.percentile:.1f}",
                                      help="Where the convolutional autoencoder's reconstruction error of your input falls among "
                                           "its errors on the 10,000 MNIST test digits. High means it has rarely seen anything like it.")
                            box[a.verdict](a.message)
                elif verdict is None:
                    ui.require_model(ANOMALY_MODEL, "The anomaly score")

            st.markdown("##### Reconstructions")
            if not models:
                st.info("No autoencoder is installed yet (the model zoo is still training). Reconstructions appear here once one is.")
            else:
                best = min(recs, key=lambda r: r.mse).name
                st.caption("Under each: the model and its error (mean squared error per pixel; lower is closer to your input). "
                           f"Closest: **{SHORT.get(best, best)}**.")
                ui.show_images([x] + [r.image for r in recs],
                               ["your input"] + [f"{SHORT.get(r.name, r.name)} · {r.mse:.4f}" for r in recs], width=96, columns=6)
                missing = [SHORT.get(n, n) for n in RECONSTRUCTORS if n not in models]
                if missing:
                    st.caption("Not installed yet: " + ", ".join(missing) + ".")
