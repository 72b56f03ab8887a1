"""English strings of the Lesson (pages/11_lesson.py, ui/lesson.py): merged into ui/strings/en.py's table."""
from __future__ import annotations

STRINGS: dict[str, str] = {
    "nav.lesson": "Lesson",
    "lesson.what": "A guided walk through the chapter this app grew from: representation learning with autoencoders and GANs, "
                   "one short step per screen, then the chapter's exercises, each answered by an experiment you can run.",
    "lesson.try_page": "send a student straight to a step: the address bar keeps it (…/lesson?step=6).",
    "lesson.go_to": "Step",
    "lesson.step_title": "{i}. {title} ({kind})",
    "lesson.kind.chapter": "chapter",
    "lesson.kind.exercise": "exercise",
    "lesson.progress": "Step {i} of {n}",
    "lesson.prev": "Previous",
    "lesson.next": "Next",
    "lesson.this_demo": "this step's demo",
    "lesson.run": "Run the experiment",
    "lesson.running": "Running the experiment (a few seconds to a minute)…",
    "lesson.sampling": "Drawing 1,000 samples and reading them with the classifier…",
    "lesson.new_samples": "New samples",
    "lesson.pick_digit": "Test digit",
    "lesson.noise": "Noise (σ)",
    "lesson.digit": "digit",
    "lesson.share": "share of samples (%)",
    "lesson.epoch": "epoch",
    "lesson.mse": "mean squared error",
    "lesson.step_n": "training step",
    "lesson.pixels": "raw pixels",
    "lesson.row.input": "Test digits",
    "lesson.row.rebuilt": "Rebuilt from the code",
    "lesson.row.model": "{model} (test MSE {mse})",
    "lesson.row.noisy": "With Gaussian noise, σ = {sigma}",
    "lesson.row.cleaned": "Cleaned by the denoising autoencoder",
    "lesson.row.samples": "Samples · {model}",
    "lesson.row.memory": "Training digits the one-number autoencoder has seen",
    "lesson.row.memory_rebuilt": "…and how it rebuilds them",
    "lesson.row.gan_now": "The generator after {n} steps",
    "lesson.code_title": "The code: {n} numbers",
    "lesson.code_unit": "code unit",
    # the chapter
    "lesson.efficient.title": "Efficient representations",
    "lesson.efficient.body": "An autoencoder learns to copy its input through a bottleneck. Here 784 pixels go in, the encoder "
                             "keeps 32 numbers, and the decoder rebuilds the digit from those alone. To succeed it must find "
                             "what digits have in common: strokes, loops, slants. That code is the representation.",
    "lesson.efficient.try": "move the slider through a few digits and watch which code units change the most.",
    "lesson.pca.title": "An undercomplete linear autoencoder is PCA",
    "lesson.pca.body": "With no non-linearity and a mean squared error, an autoencoder with a 32-number code learns the same "
                       "subspace as principal component analysis with 32 components. The figures below measure how close "
                       "the shipped linear autoencoder came: the largest angle between its subspace and PCA's, and its "
                       "error against PCA's.",
    "lesson.pca.try": "open the Linear AE = PCA page and compare its filters with the principal components.",
    "lesson.pca.angle": "Largest angle to PCA's subspace",
    "lesson.pca.ratio": "Test error / PCA's",
    "lesson.stacked.title": "Stacked autoencoders: tied weights, one layer at a time",
    "lesson.stacked.body": "Stack several layers and the autoencoder can learn curved structure a linear one cannot. Two old tricks "
                           "make it easier to train: tie the weights (each decoder layer uses its encoder layer's matrix, "
                           "transposed, so there are half as many), and train greedily, one shallow autoencoder at a time, "
                           "each on the codes of the one below, before fine-tuning the whole stack.",
    "lesson.stacked.try": "compare the two rows: which digits does the stacked autoencoder rebuild better than the linear one?",
    "lesson.stacked.caption": "The stacked autoencoder here is tied and was pretrained layer by layer. Exercise 5 trains tied and untied ones side by side.",
    "lesson.conv_rnn.title": "Convolutional and recurrent autoencoders",
    "lesson.conv_rnn.body": "For images, convolutions beat fully connected layers: the same small filter slides over the whole "
                            "picture, so a stroke is recognised wherever it is. A recurrent autoencoder reads the image as a "
                            "sequence instead, one row at a time. The three rows below rebuild the same digits from a 32-number code.",
    "lesson.conv_rnn.try": "look at thin strokes and small gaps: which model keeps them?",
    "lesson.denoising.title": "Denoising autoencoders",
    "lesson.denoising.body": "Add noise to the input and ask for the clean digit back: the autoencoder cannot just copy, it has to "
                             "learn what digits look like. This one was trained on Gaussian noise, salt and pepper, and on "
                             "photos and scans sent through the app's upload path.",
    "lesson.denoising.try": "raise the noise until the digits are hard to read for you, then see if the model still reads them.",
    "lesson.sparse.title": "Sparse autoencoders",
    "lesson.sparse.body": "Another way to stop copying: let only a few code units be active at once. A penalty (here a KL "
                          "divergence to a small target activation ρ) pushes each unit to fire rarely, so each one learns "
                          "a part, often a piece of stroke.",
    "lesson.sparse.try": "compare the mean activation with the target ρ (hover over the figure).",
    "lesson.sparse.activation": "Mean code activation",
    "lesson.sparse.rho": "Target activation ρ = {rho}",
    "lesson.vae.title": "Variational autoencoders",
    "lesson.vae.body": "A variational autoencoder's encoder gives a distribution, not a point, and a penalty pulls the codes "
                       "toward a standard normal. The code space has no holes, so a random code decodes to a new digit: "
                       "the autoencoder has become a generative model.",
    "lesson.vae.try": "draw new samples a few times: how many would pass for handwriting?",
    "lesson.gan.title": "Generative adversarial networks",
    "lesson.gan.body": "A GAN has no encoder. A generator turns random numbers into images; a discriminator learns to tell "
                       "them from real digits; the generator learns to fool it. Below, samples of a GAN whose two networks "
                       "are fully connected.",
    "lesson.gan.try": "look for digits that are half one digit and half another.",
    "lesson.dcgan.title": "Deep convolutional GANs",
    "lesson.dcgan.body": "The DCGAN guidelines made GANs train reliably: strided convolutions instead of pooling, batch "
                         "normalisation in both networks, no fully connected hidden layers, ReLU in the generator (tanh at its "
                         "output) and leaky ReLU in the discriminator. The Fréchet distance below compares the two GANs "
                         "(lower is closer to real digits).",
    "lesson.dcgan.try": "compare the two rows of samples: which strokes look drawn by a pen?",
    "lesson.fd": "Fréchet distance, {model}",
    "lesson.fd_help": "Measured on 10,000 samples in the features of the app's digit classifier; real training digits score about 1.",
    "lesson.stylegan.title": "Progressive growing and StyleGAN",
    "lesson.stylegan.body": "Progressive GANs add tricks: grow the resolution step by step, add the minibatch's standard deviation "
                            "to the discriminator so it notices samples that all look alike, equalise the learning rate, "
                            "normalise pixels. StyleGAN feeds a style to every layer of the generator. The table measures "
                            "what each trick did here, with one trick left out at a time.",
    "lesson.stylegan.try": "find the trick whose removal hurts the most, then open the GAN studio's style mixing.",
    "lesson.sg.variant": "variant",
    "lesson.sg.fd": "Fréchet distance",
    "lesson.sg.minutes": "training (min)",
    "lesson.few_labels.title": "Unsupervised pretraining with few labels",
    "lesson.few_labels.body": "Labels are expensive, digits are not. Train an encoder on all the digits without labels, then "
                              "teach a small classifier on top of it with a handful of labels. Below, the test accuracy with "
                              "100 labels (10 per digit) on raw pixels and on learned codes, and the stacked denoising "
                              "autoencoder fine-tuned with the same 100 labels.",
    "lesson.few_labels.try": "on the Few labels page, find the label count where raw pixels catch up.",
    "lesson.few.caption": "Logistic regression on frozen codes, mean of 5 random labelled sets (`rep_models.evaluate`).",
    # the exercises
    "lesson.ex_tasks.title": "What are the main tasks of autoencoders?",
    "lesson.ex_tasks.body": "Feature extraction, unsupervised pretraining, dimensionality reduction, generative models and anomaly "
                            "detection. Each has a demo in this app:",
    "lesson.ex_tasks.try": "open each demo and say in one sentence what the code is used for there.",
    "lesson.task.features": "Features: codes against raw pixels with few labels (Few labels)",
    "lesson.task.pretraining": "Pretraining: the fine-tuned stacked denoising autoencoder (Few labels)",
    "lesson.task.reduction": "Dimensionality reduction: 10,000 digits on a 2-D map (Latent map)",
    "lesson.task.generation": "Generation: sample and walk a VAE's latent space (VAE latent explorer)",
    "lesson.task.anomaly": "Anomaly detection: draw something that is not a digit (Draw & reconstruct)",
    "lesson.ex_few_labels.title": "Many unlabelled digits, few labelled ones: how can an autoencoder help?",
    "lesson.ex_few_labels.body": "Train the autoencoder on all the digits, then either keep its encoder frozen and fit a classifier "
                                 "on its codes, or put a classifier layer on the encoder and fine-tune everything with the few "
                                 "labels. The experiment does both with the shipped stacked autoencoder, on 10 and 100 labels.",
    "lesson.ex_few_labels.try": "run it, then compare with the shipped curves on the Few labels page.",
    "lesson.few.labels": "labels",
    "lesson.few.frozen": "frozen encoder + logistic regression",
    "lesson.few.fine_tuned": "encoder fine-tuned",
    "lesson.few.result": "With {n} labels: frozen {frozen} %, fine-tuned {tuned} % (2,000 test digits). {better}",
    "lesson.few.tuned_better": "Fine-tuning helped, as the chapter says.",
    "lesson.few.frozen_better": "Here fine-tuning did worse than the frozen encoder: with this few labels it fits the examples rather than the task. The chapter's advice to reuse the pretrained layers holds; freezing them is the better way to reuse them here.",
    "lesson.few.same": "Here fine-tuning changed little: with this few labels there is not enough to move the pretrained layers usefully, so freezing them costs nothing. (The stacked denoising autoencoder on the Few labels page, fine-tuned on labels first spread to similar digits, gets much further.)",
    "lesson.ex_perfect.title": "If an autoencoder rebuilds its input perfectly, is it a good one?",
    "lesson.ex_perfect.body": "No. Two models show why. The overcomplete autoencoder's code is wider than the image, so it can "
                              "copy; the deep autoencoder with a one-number code was trained on 30 digits only and learned "
                              "each one by heart. Judge an autoencoder by its error on digits it never saw, and by what its "
                              "codes are good for.",
    "lesson.ex_perfect.try": "look at the last rows: which digit does the one-number model give back for a new 7?",
    "lesson.perfect.over": "The overcomplete autoencoder rebuilds test digits with an error of {over} (the conv autoencoder: {conv}), "
                           "yet its codes classify {acc} % of test digits with 100 labels, raw pixels {pix} %: a near-perfect copy "
                           "that learned nothing useful.",
    "lesson.perfect.memory": "The one-number model keeps its {n} training digits apart by their numbers ({recalled} % come back "
                             "nearer to themselves than to any other of the {n}), with an error of {train}; on new digits the error is {test}, and {share} % of them come back "
                             "closer to a memorised digit than to themselves.",
    "lesson.ex_complete.title": "Undercomplete or overcomplete: the main risk of each?",
    "lesson.ex_complete.body": "An undercomplete autoencoder (code smaller than the input) may fail to rebuild the input, or, if it "
                               "is very deep and powerful, memorise the training set. An overcomplete one (code larger than "
                               "the input) may just copy it. The 32-number conv autoencoder sits between.",
    "lesson.ex_complete.try": "read the table's last two columns together.",
    "lesson.col.model": "model",
    "lesson.col.code": "code size",
    "lesson.col.mse": "test MSE",
    "lesson.col.few": "accuracy, 100 labels",
    "lesson.col.risk": "risk",
    "lesson.risk.memoriser_ae": "memorises: good on what it saw, bad on new digits",
    "lesson.risk.conv_ae": "a balance: rebuilds well and its codes help classify",
    "lesson.risk.overcomplete_ae": "copies: near-perfect rebuild, codes no better than pixels",
    "lesson.ex_tied.title": "How do you tie weights, and why?",
    "lesson.ex_tied.body": "Use each encoder layer's weight matrix, transposed, as the matching decoder layer's. The experiment "
                           "trains a tied and an untied autoencoder (784 → 256 → 32 and back) on 3,000 digits for 5 epochs from "
                           "the same start, and measures both on 1,000 test digits.",
    "lesson.ex_tied.try": "compare the gap between the dotted (training) and solid (test) curves of each.",
    "lesson.tied.tied": "tied ({n} parameters)",
    "lesson.tied.untied": "untied ({n} parameters)",
    "lesson.tied.train": "{label}, training digits",
    "lesson.tied.title": "Reconstruction error, tied against untied",
    "lesson.tied.result": "Tied: {tied} parameters, test error {tv} (test minus training {tg}). Untied: {untied} parameters, "
                          "test error {uv} (gap {ug}). Tying halves the weights, so there is less to overfit with.",
    "lesson.tied.disagree": "In this short run the untied autoencoder reached the lower test error: with 3,000 digits neither one "
                            "overfits yet, so the extra weights help. The chapter's argument is about the number of weights and "
                            "the risk of overfitting, which the gaps show.",
    "lesson.ex_generative.title": "What is a generative model? A generative autoencoder?",
    "lesson.ex_generative.body": "A generative model can make new examples that look drawn from the training data. A variational "
                                 "autoencoder is one: decode random codes from the prior. If it learned the data, it draws "
                                 "every digit about as often as the data has it.",
    "lesson.ex_generative.try": "draw new samples and see whether the two bar charts stay close.",
    "lesson.gen.samples": "VAE samples",
    "lesson.gen.data": "test digits",
    "lesson.gen.title": "Which digits 1,000 samples are, read by the classifier",
    "lesson.gen.result": "The largest gap between a digit's share in the samples and in the data is {gap} points; the classifier's "
                         "mean confidence in the samples is {conf} %.",
    "lesson.ex_gan.title": "What is a GAN, and what makes it hard to train?",
    "lesson.ex_gan.body": "Two networks play a game with no fixed target: each one's progress changes the other's problem. The "
                          "players can chase each other in circles (oscillation) or the generator can settle on the few digits "
                          "that fool the discriminator (mode collapse). Below: which digits the shipped GANs draw, and a fresh "
                          "DCGAN trained for a few hundred steps.",
    "lesson.ex_gan.try": "run the short training twice: does it behave the same way?",
    "lesson.gan.hist_title": "Which digits the shipped GANs draw (classifier's reading)",
    "lesson.gan.run_title": "A fresh DCGAN, {steps} steps",
    "lesson.gan.shares": "{model}: every digit between {lo} % and {hi} % of its samples.",
    "lesson.gan.real": "D's score on real digits",
    "lesson.gan.fake": "D's score on generated digits",
    "lesson.gan.kl": "KL divergence to uniform",
    "lesson.gan.score": "mean probability of 'real'",
    "lesson.gan.result": "The discriminator's score on generated digits swung by {swing} during the run, and the generated "
                         "digits' class shares ended {kl} nats from uniform (0: every digit a tenth).",
}
