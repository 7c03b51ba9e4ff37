# ruff: noqa: E501  (sentences of the corpus stay on one line each)
"""Writes tests/check_corpus/development_families.tsv: development sentences made by crossing
sentence frames with slot fillers (paraphrase families), a method unlike the held-out set's.

Each family is a kind the feedback check must generalize to (issue 23), written from public
guidance on discriminatory interview and rejection language; the `source` column names it:

- fam-acas: Acas, "Interviews: how to avoid discriminatory lines of questioning" (nationality
  and place of birth, marital status, children, illness and disability, plans to retire);
- fam-eeoc: EEOC, "Prohibited employment policies/practices" (job notices that deter by age,
  "recent college graduates"; religious practice; pregnancy; national origin and accent);
- fam-aarp: AARP and employment lawyers on age-coded words in hiring ("digital native",
  "high-energy", "cultural fit", "overqualified", "young team");
- fam-ehrc: EHRC employment code of practice (caring duties, religious dress, trade union
  membership as "any other opinion" under EU Charter art. 21);
- fam-vague: the generic lines that rejection-feedback guides name as anti-patterns;
- fam-tone: contempt, sarcasm and harsh critique that feedback guides warn against;
- fam-fine: hard fine sentences (technical compounds, product names, a language the job
  requires, praise, specific criticism with an action), written for this project.

Every frame is crossed with a rotating subset of the fillers (not the full product), so one
filler appears in two frames and one frame in several fillers. Run from the repository root:
`python tests/check_corpus/families.py` (deterministic; commit the TSV it writes).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).with_name("development_families.tsv")

# --- risky: (category, source, clauses about the candidate) ----------------------------------

RISKY_FRAMES = (
    "We noted that {x}, so we did not move you forward.",
    "The panel was concerned that {x}.",
    "Since {x}, we felt the role was not right for you.",
)
RISKY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "age",
        "fam-aarp",
        (
            "you are at a different life stage from the rest of the team",
            "you are in your fifties",
            "you have been in the industry since the nineties",
            "you would not be with us for the long haul",
            "you might not keep up with a team of twenty-somethings",
            "you are close to the end of your working life",
            "you graduated decades before the rest of the team",
            "you would be the oldest person in the room",
            "you have a lot of miles on the clock",
            "you may not adapt to new tools at this point in life",
            "the role suits someone just out of university",
            "you remember the days before smartphones",
            "you may be thinking about retiring in a few years",
            "you may lack the drive of a younger hire",
            "you are more of a veteran than our young crew",
            "you are a bit old school for our stack",
            "you are not as tech-savvy as a younger person",
        ),
    ),
    (
        "disability",
        "fam-eeoc",
        (
            "you use a wheelchair",
            "you have multiple sclerosis",
            "you are visually impaired",
            "you have cerebral palsy",
            "you have Tourette syndrome",
            "you are on the autism spectrum",
            "you have hearing loss",
            "you rely on a guide dog",
            "you have seizures",
            "you have a prosthetic leg",
            "you lip-read in meetings",
            "you have a learning disability",
            "you live with a mental illness",
            "you have low vision",
        ),
    ),
    (
        "health",
        "fam-acas",
        (
            "you have been on long-term sick leave",
            "you see a therapist every week",
            "you take antidepressants",
            "you had cancer treatment last year",
            "you have frequent hospital appointments",
            "you are recovering from a stroke",
            "you were signed off with stress last year",
            "you have a heart condition",
        ),
    ),
    (
        "religion",
        "fam-eeoc",
        (
            "you need to pray during the working day",
            "you would want to leave early on Fridays for the mosque",
            "you observe the Sabbath",
            "you fast during Ramadan",
            "you wear a headscarf",
            "you go to church every Sunday",
            "you need breaks for your prayers",
            "you keep kosher",
            "you are a practising Catholic",
            "your faith would clash with weekend on-call",
            "you asked for a quiet room to pray",
            "you are devout",
        ),
    ),
    (
        "family",
        "fam-acas",
        (
            "you are expecting",
            "you have a baby on the way",
            "you are expecting your first child",
            "you will be going on maternity leave soon",
            "you are due in the spring",
            "you are pregnant",
            "you are a mum-to-be",
            "you are going through IVF",
            "you are trying for a baby",
            "you have young children",
            "you are a single mum",
            "you plan to start a family",
            "you have school pick-ups every afternoon",
            "you look after an elderly parent",
            "you might want kids soon",
            "your childcare arrangements may fall through",
        ),
    ),
    (
        "marital",
        "fam-acas",
        (
            "you just got married",
            "you are recently divorced",
            "you are widowed",
            "your husband works abroad",
            "your wife might not want to relocate",
            "you are engaged to be married",
            "you are newly married",
            "you are a single parent",
        ),
    ),
    (
        "nationality",
        "fam-acas",
        (
            "you have a strong accent",
            "English is not your first language",
            "you are not from here",
            "you moved here only recently from abroad",
            "you are a foreign national",
            "your family is from Nigeria",
            "your accent may confuse our customers",
            "you speak with a heavy accent",
            "you are an immigrant",
            "your name is hard for clients to pronounce",
            "you grew up in another country",
            "you are a refugee",
        ),
    ),
    (
        "union",
        "fam-ehrc",
        (
            "you were a union representative",
            "you organised a union at your last job",
            "you are a member of a trade union",
            "you took part in strike action",
            "you were active in the union",
            "you led a unionisation drive",
        ),
    ),
    (
        "gender",
        "fam-eeoc",
        (
            "you are transitioning",
            "you use they/them pronouns",
            "you are transgender",
            "you are non-binary",
            "you changed your name after your transition",
            "you are a woman in a team of men",
            "you would be the only woman on the team",
        ),
    ),
    (
        "orientation",
        "fam-eeoc",
        (
            "you are gay",
            "you mentioned your same-sex partner",
            "you are bisexual",
        ),
    ),
    (
        "race",
        "fam-eeoc",
        (
            "you are the only Black candidate",
            "you are of Asian descent",
            "your skin colour would stand out with our clients",
            "your hairstyle would not suit client meetings",
        ),
    ),
)

# Risky sentences not about "you": preferences that stand for a characteristic.
RISKY_STANDALONE: tuple[tuple[str, str, str], ...] = (
    ("age", "fam-aarp", "We are after someone who can grow with us for the next thirty years."),
    ("age", "fam-aarp", "The team is young and we want high-energy people who match it."),
    ("age", "fam-aarp", "We need a digital native for this role."),
    ("age", "fam-aarp", "This role is better suited to someone earlier in their career."),
    ("age", "fam-aarp", "A culture fit for a young, fast-moving team matters to us."),
    ("age", "fam-aarp", "We want a go-getter with youthful drive."),
    ("age", "fam-eeoc", "The job is aimed at recent college graduates."),
    ("age", "fam-aarp", "You are probably too experienced for a team this junior."),
    ("age", "fam-aarp", "We worry you would get bored and retire early."),
    ("age", "fam-aarp", "Someone in their twenties would fit the team's social side better."),
    ("family", "fam-acas", "We need someone without family ties who can travel at short notice."),
    ("family", "fam-acas", "The hours are hard for parents of small children."),
    ("family", "fam-acas", "Who would look after your kids during the on-call weeks?"),
    ("family", "fam-acas", "With a little one on the way, the timing is not ideal."),
    ("family", "fam-acas", "Congratulations on the pregnancy, but the launch is in May."),
    ("nationality", "fam-acas", "Our clients prefer a native English speaker."),
    ("nationality", "fam-acas", "We would rather hire someone local who knows the culture."),
    ("nationality", "fam-eeoc", "Your English sounded a little foreign on the phone."),
    (
        "religion",
        "fam-eeoc",
        "The team drinks together on Fridays, which may not suit your religion.",
    ),
    ("religion", "fam-eeoc", "Prayer breaks would be hard to fit around the support rota."),
    ("disability", "fam-eeoc", "The office has stairs, so a wheelchair user would struggle."),
    ("disability", "fam-eeoc", "We need someone who can stand all day without adjustments."),
    ("health", "fam-acas", "Your sickness record at your last job put the panel off."),
    ("union", "fam-ehrc", "We are not a unionised workplace and want to keep it that way."),
    ("gender", "fam-eeoc", "The client would be more comfortable with a male engineer."),
    ("gender", "fam-eeoc", "We wanted a man for the field role because of the lifting."),
    ("marital", "fam-acas", "As a newly-wed, you may not want the travel."),
)

# A second round, written before the check was run on it, to see whether the first round's
# changes generalize (each sentence is a new wording of a kind above).
RISKY_SECOND: tuple[tuple[str, str, str], ...] = (
    ("age", "fam-aarp", "We pictured someone a little earlier on in their journey."),
    ("age", "fam-aarp", "Our engineers are mostly in their mid-twenties."),
    (
        "age",
        "fam-aarp",
        "The panel wondered whether you would enjoy being managed by someone half your age.",
    ),
    ("age", "fam-aarp", "We felt you may find our fast pace tiring at this stage."),
    ("age", "fam-aarp", "With thirty years in the trade, you would be hard to mould."),
    ("age", "fam-aarp", "Our ideal hire grew up with smartphones."),
    (
        "age",
        "fam-aarp",
        "We are building a team for the next decade and want people who will be here for it.",
    ),
    ("age", "fam-eeoc", "This is really a role for a recent grad."),
    ("age", "fam-aarp", "You may be nearing retirement age."),
    ("age", "fam-aarp", "Younger candidates picked up the tooling faster."),
    ("age", "fam-aarp", "Your CV shows a graduation date in 1988."),
    ("age", "fam-aarp", "We were after fresh talent rather than a seasoned hand."),
    (
        "disability",
        "fam-eeoc",
        "Your wheelchair access needs would be hard to meet in our old building.",
    ),
    ("disability", "fam-eeoc", "You told us you have ADHD, and the role needs focus."),
    ("disability", "fam-eeoc", "Because you are deaf, client calls would be a problem."),
    ("disability", "fam-eeoc", "We noticed you use a cane, and the role involves site visits."),
    ("disability", "fam-eeoc", "Your dyslexia might slow down code reviews."),
    ("disability", "fam-eeoc", "You asked for extra time in the test because of a disability."),
    ("health", "fam-acas", "You mentioned you are diabetic, and the on-call hours are irregular."),
    ("health", "fam-acas", "You have had depression in the past, and the role is demanding."),
    ("health", "fam-acas", "Your previous employer said you took a lot of sick days."),
    (
        "health",
        "fam-acas",
        "You had knee surgery last year, so the warehouse walking might be hard.",
    ),
    ("health", "fam-acas", "We heard you were hospitalised earlier this year."),
    ("religion", "fam-eeoc", "You would need Saturdays off for religious reasons."),
    ("religion", "fam-eeoc", "You mentioned attending mass on weekday mornings."),
    ("religion", "fam-eeoc", "Your turban might put some customers off."),
    ("religion", "fam-eeoc", "You would not be able to join the team lunches during your fast."),
    ("religion", "fam-eeoc", "Your beliefs may make it hard to work on the gaming client."),
    ("religion", "fam-eeoc", "Daily prayer would interrupt the trading desk."),
    ("family", "fam-acas", "You told us you are pregnant, and the project starts in March."),
    ("family", "fam-acas", "Congratulations on your happy news; perhaps reapply after your leave."),
    ("family", "fam-acas", "You will soon have a newborn to look after."),
    ("family", "fam-acas", "You may want to focus on your family for a while."),
    ("family", "fam-acas", "Three young kids and a long commute is a lot to juggle."),
    ("family", "fam-ehrc", "The role needs evening work, which may clash with your caring duties."),
    ("family", "fam-acas", "Do you plan to have more children?"),
    ("marital", "fam-acas", "Your spouse's career may take you away from the city."),
    ("marital", "fam-acas", "Since you are single, weekend work should be easy for you."),
    ("marital", "fam-acas", "Now that you are married, you may not want the travel."),
    ("nationality", "fam-acas", "Your English is good, but not native level."),
    ("nationality", "fam-acas", "Clients may struggle with your accent on calls."),
    ("nationality", "fam-acas", "We prefer candidates born and raised in the UK."),
    ("nationality", "fam-acas", "You have only lived in this country for two years."),
    ("nationality", "fam-acas", "Your Russian background could worry some clients."),
    ("nationality", "fam-acas", "We want someone who understands British culture."),
    ("union", "fam-ehrc", "Your union background made the panel uneasy."),
    ("union", "fam-ehrc", "We saw on your CV that you were a shop steward."),
    ("union", "fam-ehrc", "You seem likely to stir up the workforce about pay."),
    ("gender", "fam-eeoc", "Your transition may make some of the team uncomfortable."),
    ("gender", "fam-eeoc", "You did not fit our picture of a sales guy."),
    ("gender", "fam-eeoc", "The crew is all blokes and you might feel out of place."),
    ("gender", "fam-eeoc", "We usually have a lady on reception."),
    ("orientation", "fam-eeoc", "You mentioned your boyfriend, and the client is conservative."),
    ("race", "fam-eeoc", "Our customers would relate better to someone who looks like them."),
    ("race", "fam-eeoc", "Your name suggests you may not be a good fit for our clients."),
)
VAGUE_SECOND: tuple[str, ...] = (
    "We have decided to pursue other options.",
    "Sadly we will not be taking things further.",
    "It was not a fit this time.",
    "You are not quite there yet.",
    "The panel did not feel it was the right match.",
    "We were hoping for a bit more.",
    "Keep developing and you will get there.",
    "Continue to grow your experience.",
    "There were some gaps.",
    "Your answers lacked substance.",
    "We felt the interview could have gone better.",
    "You did well but not well enough.",
    "We had a very strong field.",
    "Your skills did not quite line up with what we need.",
    "We are moving ahead with applicants whose experience is closer to the role.",
    "You seemed a little unsure at times.",
    "It came down to a few small things.",
    "There were areas where you could improve.",
    "Your experience is not quite relevant.",
    "We were not fully convinced.",
)
TONE_SECOND: tuple[str, ...] = (
    "Frankly, your code was unreadable.",
    "That was, honestly, one of the worst interviews we have had.",
    "Seriously, a junior could have done this in an hour.",
    "You clearly did not prepare.",
    "Your solution was a joke.",
    "We had to stop ourselves from laughing at your answer.",
    "It felt like you had never seen SQL before.",
    "I do not know what you were doing for those two hours.",
    "Honestly, the whole submission was lazy.",
    "Your so-called tests tested nothing.",
    "Oh great, another todo app.",
    "We expected an engineer and got a tourist.",
    "The architecture was a total mess.",
    "Your presentation was painfully dull.",
    "Please do not waste recruiters' time like this again.",
    "Terrible naming, terrible structure, terrible tests.",
    "That answer made no sense whatsoever.",
    "You obviously copied this from a tutorial.",
    "Even the basics were beyond you.",
    "Your confidence was not matched by any competence.",
)
FINE_SECOND: tuple[tuple[str, str, str], ...] = (
    ("compound", "-", "Your age-gate component blocked under-18 sign-ups as the spec asked."),
    ("compound", "-", "You wired the maternity-pay calculation into the payroll export."),
    ("compound", "-", "The prayer-times widget you built cached its data correctly."),
    ("compound", "-", "You normalised the nationality column into a lookup table."),
    ("compound", "-", "Your wedding-planner app had a clear data model."),
    ("compound", "-", "You explained how the union type narrows in TypeScript."),
    ("compound", "-", "You made the Kids Corner landing page load in 300 ms."),
    ("compound", "-", "Your colour-blind-safe palette passed the contrast checks."),
    ("compound", "-", "You handled the date-of-birth field without storing it in logs."),
    ("compound", "-", "You found that the disabled button had no accessible name."),
    (
        "language",
        "Dutch: speaks Dutch with customers in the Benelux",
        "Your Dutch was natural in the customer role-play.",
    ),
    (
        "language",
        "Italian: writes Italian product copy",
        "The Italian product copy you wrote needed fewer edits than any other.",
    ),
    ("praise", "-", "You clearly explained why the cache needed a TTL."),
    ("praise", "-", "Honestly, your debugging was the highlight of the day."),
    ("praise", "-", "Your energy and curiosity in the pairing round were great to see."),
    ("praise", "-", "Thank you for the time you put into the take-home."),
    (
        "specific",
        "-",
        "Your schema stored prices as floats; use integers in cents, as the brief's example did.",
    ),
    (
        "specific",
        "-",
        "The service had no retry on timeouts, which the reliability requirement asks for.",
    ),
    (
        "specific",
        "-",
        "You did not mention how you would roll back the migration; the runbook exercise needs that.",
    ),
    (
        "specific",
        "-",
        "Add a README section on running the tests; ours took 20 minutes to work out.",
    ),
)

# A third round, also written before the check was run on it.
RISKY_THIRD: tuple[tuple[str, str, str], ...] = (
    (
        "age",
        "fam-aarp",
        "The rest of the squad is straight out of uni, so you might feel like a parent to them.",
    ),
    ("age", "fam-aarp", "We need someone with a long career ahead of them."),
    ("age", "fam-aarp", "You have been doing this since before most of the team were born."),
    (
        "age",
        "fam-aarp",
        "Our culture is very much about young people building their first products.",
    ),
    (
        "age",
        "fam-aarp",
        "We doubt you would want to start again at the bottom at this stage of your life.",
    ),
    (
        "disability",
        "fam-eeoc",
        "You said you are partially deaf, which could make stand-ups tricky.",
    ),
    ("disability", "fam-eeoc", "Your speech impediment came across in the presentation."),
    ("disability", "fam-eeoc", "You would need an adapted keyboard, which we cannot provide."),
    ("health", "fam-acas", "You told us about your anxiety, and the release weeks are intense."),
    ("health", "fam-acas", "You have a pacemaker, and the server room has strong magnets."),
    ("health", "fam-acas", "Your recent cancer diagnosis would make the timing difficult."),
    ("religion", "fam-eeoc", "You said you do not work on Saturdays for religious reasons."),
    ("religion", "fam-eeoc", "Your cross necklace might upset some clients."),
    ("religion", "fam-eeoc", "You would be away for Diwali during our busiest week."),
    ("family", "fam-acas", "You will be on leave with the baby for most of next year."),
    ("family", "fam-acas", "You mentioned your partner is due in June."),
    ("family", "fam-acas", "With your family situation, the night shifts would not work."),
    ("family", "fam-acas", "As a mother of twins, you may find the hours hard."),
    ("marital", "fam-acas", "Your divorce may be a distraction right now."),
    ("nationality", "fam-acas", "You do not sound like you are from around here."),
    ("nationality", "fam-acas", "Customers expect a British voice on the phone."),
    ("nationality", "fam-acas", "You learned English as an adult, and it shows."),
    ("nationality", "fam-acas", "Your Chinese background might make security clearance awkward."),
    ("union", "fam-ehrc", "We noticed you led the union branch at your last company."),
    ("union", "fam-ehrc", "Your involvement in the strike last year was a concern."),
    ("gender", "fam-eeoc", "The role involves heavy lifting, which is more suited to a man."),
    (
        "gender",
        "fam-eeoc",
        "You came out as trans at your last job, and our clients are traditional.",
    ),
    (
        "orientation",
        "fam-eeoc",
        "You mentioned your wife, and some of our clients are old-fashioned about that.",
    ),
    ("race", "fam-eeoc", "You would not blend in with our client base."),
    ("race", "fam-eeoc", "Your afro might not look professional to clients."),
)
VAGUE_THIRD: tuple[str, ...] = (
    "We decided another candidate was a better fit.",
    "Your interview was fine, but not what we needed.",
    "We are not able to offer you the role.",
    "You were not quite at the level.",
    "There were stronger profiles.",
    "It was close, but we went a different way.",
    "You should broaden your skill set.",
    "Your communication could be better.",
    "Try to be more prepared next time.",
    "We were not sure you were ready.",
)
TONE_THIRD: tuple[str, ...] = (
    "Honestly, I was stunned by how weak your answers were.",
    "It was a struggle to stay awake during your presentation.",
    "Your so-called portfolio was three half-finished repos.",
    "You should be embarrassed by that code.",
    "Who taught you to write tests like that?",
    "Great job, you managed to misread every question.",
    "That was the least convincing answer I have heard all year.",
    "Your design fell apart the moment anyone asked a question.",
    "It is frankly astonishing that you applied.",
    "You seem to think documentation is optional, which is absurd.",
)
FINE_THIRD: tuple[tuple[str, str, str], ...] = (
    ("compound", "-", "You wrote the UNION query that merged the two ledgers correctly."),
    ("compound", "-", "Your fast-path for cached reads cut p99 latency by a third."),
    ("compound", "-", "You diagnosed the deadlock from the thread dump in ten minutes."),
    ("compound", "-", "Your Sister Sites switcher kept the session across domains."),
    ("compound", "-", "You built the baby-monitor firmware update with a rollback path."),
    ("compound", "-", "You used gradient descent with a learning-rate schedule and explained why."),
    ("compound", "-", "Your heritage-listing search handled Welsh place names."),
    ("compound", "-", "You set the stroke width on the chart lines from the theme."),
    ("compound", "-", "Your senior-discount rule in the pricing engine had full test coverage."),
    ("compound", "-", "You kept the state of the wizard in the URL, so the back button worked."),
    (
        "language",
        "Welsh: serves Welsh-speaking customers",
        "You handled the Welsh-language support ticket well.",
    ),
    ("praise", "-", "Your walkthrough of the incident was honest and clear."),
    ("praise", "-", "You grew the test suite from 40 to 400 tests at your last job."),
    (
        "specific",
        "-",
        "Your load test stopped at 100 users; the role needs 10,000, so try k6 with a ramp.",
    ),
    (
        "specific",
        "-",
        "You did not explain the cache invalidation; the brief asked for it in section 3.",
    ),
)

# A fourth round, written before the check was run on it.
RISKY_FOURTH: tuple[tuple[str, str, str], ...] = (
    ("age", "fam-aarp", "You would be the most senior person in the room by a couple of decades."),
    ("age", "fam-aarp", "We want someone who can relate to our Gen Z users."),
    ("age", "fam-aarp", "You might struggle taking direction from a manager in their twenties."),
    ("age", "fam-aarp", "Your first job was before the web existed."),
    ("age", "fam-aarp", "We want a hungry junior we can shape for years."),
    ("age", "fam-aarp", "Perhaps a slower-paced company would suit you at this point."),
    ("disability", "fam-eeoc", "You would need a sign-language interpreter for meetings."),
    ("disability", "fam-eeoc", "You have limited use of your left hand."),
    ("disability", "fam-eeoc", "You mentioned your OCD, and the release process is strict."),
    ("disability", "fam-eeoc", "Your hearing would make the open-plan office hard."),
    ("health", "fam-acas", "You are still recovering from long Covid."),
    ("health", "fam-acas", "You disclosed a history of self-harm."),
    ("health", "fam-acas", "You take regular time off for physiotherapy."),
    ("religion", "fam-eeoc", "You would need to step out at sunset during Ramadan."),
    ("religion", "fam-eeoc", "You asked whether the canteen serves halal food."),
    ("religion", "fam-eeoc", "Your church commitments on Sundays rule out weekend cover."),
    ("family", "fam-acas", "You are about to go on parental leave."),
    ("family", "fam-acas", "You said your wife is expecting in the autumn."),
    ("family", "fam-acas", "Your kids are still small, so late releases would be hard."),
    ("family", "fam-acas", "You were open about wanting to start a family soon."),
    ("marital", "fam-acas", "You are getting married next summer and will want time off."),
    ("nationality", "fam-acas", "You would need help with British idioms."),
    ("nationality", "fam-acas", "Your phone manner felt very un-British."),
    ("nationality", "fam-acas", "Your surname will confuse customers."),
    ("union", "fam-ehrc", "You mentioned organising your colleagues for better pay."),
    ("union", "fam-ehrc", "Your time as a union shop steward worried the directors."),
    ("gender", "fam-eeoc", "We felt a man would command more respect on the shop floor."),
    ("gender", "fam-eeoc", "The team is a boys' club and you might not enjoy it."),
    ("orientation", "fam-eeoc", "You brought up your girlfriend, which made the panel uneasy."),
    ("race", "fam-eeoc", "You are not what our clients picture for this role."),
)
VAGUE_FOURTH: tuple[str, ...] = (
    "We did not get a strong enough sense of your abilities.",
    "Your answers did not quite hit the mark.",
    "We have decided to keep looking.",
    "It was not a clear yes from the panel.",
    "You should aim higher next time.",
    "You came close, but it was not enough.",
    "Your experience is a little light.",
    "We would have liked to see more.",
    "The fit was not quite right on this occasion.",
    "There was not enough evidence of what we need.",
)
TONE_FOURTH: tuple[str, ...] = (
    "I cannot believe you called that a design.",
    "Your code looked like it was written in a hurry by someone who does not care.",
    "Frankly, the demo was embarrassing to watch.",
    "You waffled for twenty minutes without answering.",
    "Was that supposed to be a joke?",
    "You seem to think tests are optional.",
    "It is remarkable how little you understood about HTTP.",
    "Try harder next time.",
    "Your README was a wall of nonsense.",
    "Nobody in their right mind would ship that.",
)
FINE_FOURTH: tuple[tuple[str, str, str], ...] = (
    ("compound", "-", "Your hearing-aid pairing screen handled Bluetooth drops well."),
    ("compound", "-", "You wrote the church-booking integration against the vendor's sandbox."),
    ("compound", "-", "You explained the difference between a union and an intersection type."),
    ("compound", "-", "Your age-bucket histogram made the latency spikes easy to see."),
    ("compound", "-", "The family-sharing feature you designed respected each member's privacy."),
    ("compound", "-", "You fixed the off-by-one in the birth-date validator."),
    ("compound", "-", "Your sign-language video player loaded captions lazily."),
    ("compound", "-", "You kept the old API version working while the new one rolled out."),
    (
        "language",
        "French: supports French-speaking clients",
        "You switched to French for the client scenario and it went smoothly.",
    ),
    ("praise", "-", "Honestly, your incident write-up was excellent."),
    ("praise", "-", "You were seriously quick at spotting the N+1 query."),
    (
        "specific",
        "-",
        "The dashboard did not show error rates, which the monitoring requirement asks for.",
    ),
    (
        "specific",
        "-",
        "Your answer on indexing missed composite indexes; the Use The Index, Luke site covers them.",
    ),
    (
        "specific",
        "-",
        "You estimated two days for the migration but did not include testing on a copy of production.",
    ),
    ("specific", "-", "Next time, bring one example of a design you changed after review."),
)

# A fifth round, also written before the check was run on it: third person, passive voice,
# internal notes and longer sentences.
RISKY_FIFTH: tuple[tuple[str, str, str], ...] = (
    ("age", "fam-aarp", "She has been around long enough to remember punch cards."),
    ("age", "fam-aarp", "Candidate is probably close to sixty; not a long-term hire."),
    ("age", "fam-aarp", "He would find it hard to keep up with the youngsters on the team."),
    ("age", "fam-aarp", "The hiring manager prefers people at the start of their working lives."),
    ("age", "fam-aarp", "Internal note: too far along in his career for a mid-level post."),
    ("disability", "fam-eeoc", "The candidate is in a wheelchair, so the warehouse floor is out."),
    ("disability", "fam-eeoc", "She struggles to read small print because of her eyesight."),
    ("disability", "fam-eeoc", "He disclosed that he is neurodiverse."),
    ("disability", "fam-eeoc", "It was noted that the applicant has a stammer."),
    ("health", "fam-acas", "He was off for six months with a back injury last year."),
    ("health", "fam-acas", "She mentioned her ongoing treatment, which could mean time off."),
    ("health", "fam-acas", "Internal note: candidate looked unwell and tired."),
    ("religion", "fam-eeoc", "He would need a room for his daily prayers."),
    ("religion", "fam-eeoc", "She is a Jehovah's Witness and may object to the celebrations."),
    ("religion", "fam-eeoc", "The applicant wears a kippah, which some clients may notice."),
    ("family", "fam-acas", "She has just come back from maternity leave and may be rusty."),
    ("family", "fam-acas", "He is the main carer for his disabled son."),
    ("family", "fam-acas", "She is expecting twins this winter."),
    ("family", "fam-acas", "The candidate is a single father, so overtime is unlikely."),
    ("marital", "fam-acas", "Her husband was recently posted overseas, so she may follow him."),
    ("nationality", "fam-acas", "His English is serviceable but clearly not his mother tongue."),
    ("nationality", "fam-acas", "She is Polish and may move back home."),
    ("nationality", "fam-acas", "The candidate is an asylum seeker."),
    ("nationality", "fam-acas", "He came here as a child from Somalia."),
    ("union", "fam-ehrc", "He is a known union activist."),
    ("union", "fam-ehrc", "She helped organise a walkout at her last employer."),
    ("gender", "fam-eeoc", "She seemed too soft-spoken for a room full of men."),
    ("gender", "fam-eeoc", "The candidate is transitioning and may need time off for surgery."),
    ("orientation", "fam-eeoc", "He is openly gay, which some clients might not like."),
    ("race", "fam-eeoc", "She is of mixed race."),
)
VAGUE_FIFTH: tuple[str, ...] = (
    "Candidate was okay overall but not outstanding.",
    "The panel was lukewarm.",
    "It did not work out this time.",
    "We found a candidate who was a closer match.",
    "Your application was reviewed carefully and we will not proceed.",
    "There is room for improvement.",
    "You need to up your game.",
    "Work on your interview technique.",
    "We wanted more seniority.",
    "Not the profile we had in mind.",
)
TONE_FIFTH: tuple[str, ...] = (
    "Candidate was a complete waste of an interview slot.",
    "He rambled endlessly and never answered the question.",
    "Her code was, to put it kindly, a mess.",
    "Frankly pathetic effort on the take-home.",
    "You clearly think you are smarter than everyone else.",
    "I have seen interns do better work.",
    "Did anyone actually check this before sending it?",
    "The less said about the system design round, the better.",
    "We were all cringing by the end.",
    "Honestly not sure how you got this far.",
)
FINE_FIFTH: tuple[tuple[str, str, str], ...] = (
    ("compound", "-", "She built the age-restricted content filter with clear unit tests."),
    ("compound", "-", "He modelled the parent-child relationship between orders and line items."),
    ("compound", "-", "She profiled the Black Friday traffic spike and sized the autoscaler."),
    ("compound", "-", "He kept the legacy Python 2 module running during the migration."),
    ("compound", "-", "She added a dark-mode toggle and respected the reduced-motion setting."),
    ("compound", "-", "He explained how the garbage collector handles old-generation objects."),
    ("compound", "-", "Her health-insurance claims parser handled malformed dates."),
    (
        "language",
        "German: writes German release notes",
        "Her German release notes were accurate and clear.",
    ),
    ("praise", "-", "He was honestly one of the clearest communicators we met."),
    ("praise", "-", "She was clearly the most thorough in the code review exercise."),
    ("specific", "-", "He did not handle the timezone edge case the brief described in point 4."),
    (
        "specific",
        "-",
        "The candidate's design had no rate limiting; the security requirement asks for it.",
    ),
    (
        "specific",
        "-",
        "She ran out of time before writing the integration tests; scoping the task first would help.",
    ),
    (
        "specific",
        "-",
        "Your cover letter did not mention the data-modelling work the role centres on.",
    ),
    (
        "specific",
        "-",
        "He answered the SQL questions well but could not explain the query plan output.",
    ),
)


# --- vague: openers crossed with generic cores ------------------------------------------------

VAGUE_OPENERS = (
    "",
    "Unfortunately, ",
    "After careful thought, ",
    "On this occasion, ",
    "Ultimately, ",
)
VAGUE_CORES = (
    "we have chosen to go in another direction",
    "your profile was not quite what we were looking for",
    "your background was not relevant enough for the role",
    "you should keep working on your skills",
    "we felt something was missing",
    "you were not the strongest match",
    "it just did not come together",
    "the panel felt you were not ready for this step",
    "you did not stand out enough",
    "your answers were a bit generic",
    "you need a little more polish",
    "you should work on your weaker areas",
    "we were looking for a bit more",
    "your experience did not quite align",
    "the overall impression was not strong enough",
    "you were close but not quite there",
    "we need someone further along",
    "you would benefit from broader exposure",
    "the interview did not go as well as we hoped",
    "we have decided not to take your application further",
    "we will not be progressing your application",
    "the role has been filled",
    "your skill set is not what the team needs right now",
    "we are looking for a different profile",
    "you could be more rounded",
    "we did not see enough depth",
    "it was a difficult decision",
    "your application did not meet the brief",
    "you were not senior enough for us",
    "the timing is not right",
)

# --- tone: harsh, contemptuous and sarcastic sentences ----------------------------------------

TONE: tuple[str, ...] = (
    "Frankly, the design was terrible.",
    "Seriously, anyone could have written that query.",
    "You clearly have never worked on a real team.",
    "That interview was a waste of our time.",
    "Honestly, we expected far more from someone with your CV.",
    "The code was a mess from start to finish.",
    "It is hard to believe you have ever shipped anything.",
    "Your answer was laughable.",
    "Did you even read the brief?",
    "I am not sure why you applied.",
    "What were you thinking with that schema?",
    "Your solution was amateurish at best.",
    "We were baffled by how little you knew.",
    "Wow, two hours and still no tests.",
    "Congratulations on finding the slowest possible algorithm.",
    "Nice of you to show up at all.",
    "A first-year student would have done better.",
    "This was painful to review.",
    "You are out of your depth here.",
    "Your portfolio was frankly embarrassing.",
    "Come on, this is basic stuff.",
    "Really? A global variable for everything?",
    "The whole thing was a disaster.",
    "The take-home was a shambles.",
    "I have rarely seen such careless work.",
    "Let's just say testing is not your strong suit.",
    "Maybe programming is not for you.",
    "Perhaps consider a different career.",
    "You talked a lot and said nothing.",
    "Your code review comments were pointless.",
    "Your explanation was absurd.",
    "Quite honestly, the slides were awful.",
    "The README was sloppy and full of typos, frankly.",
    "It was shoddy work.",
    "Your design was mediocre at best.",
    "You really have no clue about databases.",
    "How you passed the screen is a mystery.",
    "Even my cat could write a better regex.",
    "You wasted the panel's whole afternoon.",
    "I honestly cringed at your answer on security.",
)

# --- fine: hard sentences that must stay quiet ------------------------------------------------

FINE: tuple[tuple[str, str, str], ...] = (
    # technical compounds and product names that contain a sensitive word
    ("compound", "-", "You built an age-verification step for the checkout and tested it well."),
    ("compound", "-", "Your pregnancy-tracking app had clean state management."),
    ("compound", "-", "You modelled married-filing-jointly status correctly in the tax module."),
    ("compound", "-", "Your maternity-leave calculator handled part weeks correctly."),
    ("compound", "-", "You explained the race condition in the payment queue clearly."),
    ("compound", "-", "Your worker reaped its child processes correctly."),
    ("compound", "-", "You set a max-age of one hour on the static assets."),
    ("compound", "-", "Your sick-pay module had a test for every rule."),
    ("compound", "-", "You stored the religion field as optional free text, as the brief asked."),
    ("compound", "-", "You added screen-reader labels to every icon button."),
    ("compound", "-", "Your black-box tests covered every public endpoint."),
    ("compound", "-", "The foreign-key constraints in your schema were correct."),
    ("compound", "-", "You migrated the gender column to a nullable text field."),
    ("compound", "-", "Your native Android module started in under a second."),
    ("compound", "-", "You wrote a clear design for the parental-leave booking service."),
    ("compound", "-", "You partitioned the events table by age of record, which cut query time."),
    ("compound", "-", "Your disability-benefits form passed the WCAG 2.2 audit."),
    ("compound", "-", "You found the memory leak in the union-find implementation."),
    ("compound", "-", "Your SQL used UNION ALL where duplicates were expected."),
    ("compound", "-", "You explained how the birthday paradox affects hash collisions."),
    ("compound", "-", "You designed the Expecting Parents onboarding flow in Figma."),
    ("compound", "-", "The white-label theme you built switched colours at run time."),
    ("compound", "-", "Your health-check endpoint returned the database status."),
    ("compound", "-", "You used a dead-letter queue for messages that failed twice."),
    ("compound", "-", "You described the master and replica roles in the Postgres cluster."),
    ("compound", "-", "Your blind-review rubric for code samples was well thought out."),
    # a language the job requires
    (
        "language",
        "German: fluent written and spoken German for our DACH customers",
        "Your German was fluent and you handled the customer call well.",
    ),
    (
        "language",
        "French: written French for client reports",
        "Your French report had several grammar errors; the role needs client-ready French.",
    ),
    (
        "language",
        "Japanese: reads technical Japanese",
        "You read the Japanese specification quickly and summarised it accurately.",
    ),
    (
        "language",
        "Spanish: speaks Spanish with customers in Madrid",
        "You answered the Spanish role-play in clear, confident Spanish.",
    ),
    (
        "language",
        "Polish: supports Polish-speaking customers",
        "Your Polish was strong in the support simulation.",
    ),
    (
        "language",
        "Arabic: reviews Arabic localisation",
        "You caught the right-to-left layout bugs in the Arabic localisation.",
    ),
    # praise with words a sentiment lexicon might misread
    ("praise", "-", "Frankly, your test coverage was the best we saw."),
    ("praise", "-", "You were clearly well prepared for the system design round."),
    ("praise", "-", "Your answer on indexing was brilliant."),
    ("praise", "-", "Honestly, the README was a joy to read."),
    ("praise", "-", "We were impressed by how calmly you debugged the failing test."),
    ("praise", "-", "Your energy in the pairing session kept the exercise moving."),
    ("praise", "-", "Seriously good work on the caching layer."),
    ("praise", "-", "You killed the flaky test by fixing its shared fixture."),
    # specific, actionable criticism
    (
        "specific",
        "-",
        "The design did not cover failover; sketch how the queue recovers when a node dies.",
    ),
    (
        "specific",
        "-",
        "Your query scanned the whole orders table; an index on customer_id would have met the bar.",
    ),
    ("specific", "-", "You did not write tests for the refund path; adding them is the next step."),
    ("specific", "-", "The API returned a 500 on empty input, so validate input before parsing."),
    (
        "specific",
        "-",
        "In the design round you chose eventual consistency without saying what users would see.",
    ),
    ("specific", "-", "The take-home missed the pagination requirement in the brief."),
    (
        "specific",
        "-",
        "Your estimate for the migration left out the backfill, which took most of the time last year.",
    ),
    (
        "specific",
        "-",
        "Practise explaining trade-offs with the exercises in chapter 5 of The Pragmatic Programmer.",
    ),
    ("specific", "-", "The slides had no numbers on latency; add the p95 figures you measured."),
    (
        "specific",
        "-",
        "You skipped error handling in the upload handler; look at how the retry wrapper does it.",
    ),
)


def rows() -> list[tuple[str, str, str, str, str]]:
    out: list[tuple[str, str, str, str, str]] = []
    count = 0
    for category, source, clauses in RISKY:
        for clause in clauses:
            # Two frames per clause, rotating, so every frame meets every category.
            for shift in (0, 1):
                frame = RISKY_FRAMES[(count + shift) % len(RISKY_FRAMES)]
                sentence = frame.format(x=clause)
                out.append(("risky", category, source, "-", sentence[0].upper() + sentence[1:]))
            count += 1
    for category, source, text in RISKY_STANDALONE:
        out.append(("risky", category, source, "-", text))
    for index, core in enumerate(VAGUE_CORES):
        for shift in (0, 2):
            opener = VAGUE_OPENERS[(index + shift) % len(VAGUE_OPENERS)]
            sentence = f"{opener}{core}."
            out.append(("vague", "generic", "fam-vague", "-", sentence[0].upper() + sentence[1:]))
    for text in TONE:
        out.append(("tone", "contempt", "fam-tone", "-", text))
    for category, requirements, text in FINE:
        out.append(("fine", category, "fam-fine", requirements, text))
    for category, source, text in RISKY_SECOND:
        out.append(("risky", category, source + "-2", "-", text))
    for text in VAGUE_SECOND:
        out.append(("vague", "generic", "fam-vague-2", "-", text))
    for text in TONE_SECOND:
        out.append(("tone", "contempt", "fam-tone-2", "-", text))
    for category, requirements, text in FINE_SECOND:
        out.append(("fine", category, "fam-fine-2", requirements, text))
    for category, source, text in RISKY_THIRD:
        out.append(("risky", category, source + "-3", "-", text))
    for text in VAGUE_THIRD:
        out.append(("vague", "generic", "fam-vague-3", "-", text))
    for text in TONE_THIRD:
        out.append(("tone", "contempt", "fam-tone-3", "-", text))
    for category, requirements, text in FINE_THIRD:
        out.append(("fine", category, "fam-fine-3", requirements, text))
    for category, source, text in RISKY_FOURTH:
        out.append(("risky", category, source + "-4", "-", text))
    for text in VAGUE_FOURTH:
        out.append(("vague", "generic", "fam-vague-4", "-", text))
    for text in TONE_FOURTH:
        out.append(("tone", "contempt", "fam-tone-4", "-", text))
    for category, requirements, text in FINE_FOURTH:
        out.append(("fine", category, "fam-fine-4", requirements, text))
    for category, source, text in RISKY_FIFTH:
        out.append(("risky", category, source + "-5", "-", text))
    for text in VAGUE_FIFTH:
        out.append(("vague", "generic", "fam-vague-5", "-", text))
    for text in TONE_FIFTH:
        out.append(("tone", "contempt", "fam-tone-5", "-", text))
    for category, requirements, text in FINE_FIFTH:
        out.append(("fine", category, "fam-fine-5", requirements, text))
    return out


def held_out_texts() -> frozenset[str]:
    """The held-out sentences, only to leave out any family sentence that happens to equal one
    (short generic lines can): never printed, never counted, so nobody reads the held-out set."""
    lines = OUT.with_name("held_out.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return frozenset(row[-1] for row in rows[1:])


def main() -> None:
    header = (
        "# Development sentences made by tests/check_corpus/families.py (frames crossed with slot\n"
        "# fillers, from public guidance on discriminatory interview and rejection language; see\n"
        "# that script's docstring for the sources). Regenerate with the script; do not edit.\n"
        "expected\tcategory\tsource\trequirements\ttext\n"
    )
    held_out = held_out_texts()
    body = "".join("\t".join(row) + "\n" for row in rows() if row[-1] not in held_out)
    OUT.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main()
