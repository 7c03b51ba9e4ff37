"""Content of the demo recruitment agency: roles it fills for its clients, and feedback.

An agency differs from an employer in ways the feedback shows: each job is for a client
(named in the job's team), the agency's recruiter writes the feedback from the client's
interview notes, and a candidate may be put forward for several clients' roles.
"""

from __future__ import annotations

from portal.demo.content import (
    DemoApplication,
    DemoAssessment,
    DemoAwaiting,
    DemoGrowthArea,
    DemoJob,
    DemoOrganization,
    DemoRequirement,
    DemoStaff,
    DemoStrength,
)
from portal.security.actors import StaffRole

# ---------------------------------------------------------------------------
# Jobs (each for a client)
# ---------------------------------------------------------------------------

WAREHOUSE_SUPERVISOR = DemoJob(
    key="warehouse-operations-supervisor",
    title="Warehouse Operations Supervisor",
    team="For Alder Logistics",
    location="Rotterdam (on site, rotating shifts)",
    requirements=(
        DemoRequirement(
            "Shift planning",
            "Plans rotas for 20 to 40 people against forecast volumes and absences",
        ),
        DemoRequirement(
            "Safety leadership",
            "Runs toolbox talks, investigates near misses and follows through on actions",
        ),
        DemoRequirement(
            "Team leadership", "Leads a shift team day to day: coaching, feedback, absence"
        ),
        DemoRequirement(
            "Warehouse data",
            "Uses WMS reports (pick rate, accuracy, dock-to-stock) to steer the shift",
        ),
        DemoRequirement(
            "Continuous improvement",
            "Finds and fixes process waste with simple lean tools, and measures the result",
        ),
    ),
)

MANAGEMENT_ACCOUNTANT = DemoJob(
    key="management-accountant",
    title="Management Accountant",
    team="For Brightwater Foods",
    location="Manchester (hybrid, three days on site)",
    requirements=(
        DemoRequirement(
            "Month-end close", "Owns accruals, prepayments and reconciliations to a 5-day close"
        ),
        DemoRequirement(
            "Variance analysis",
            "Explains budget-to-actual variances by driver, not only by account",
        ),
        DemoRequirement(
            "Financial modelling", "Builds clear, checkable Excel models with separate inputs"
        ),
        DemoRequirement(
            "Business partnering",
            "Explains numbers to site managers and changes their decisions with them",
        ),
        DemoRequirement("ERP systems", "Works confidently in SAP or a similar ERP"),
    ),
)

UX_DESIGNER = DemoJob(
    key="ux-designer",
    title="UX Designer",
    team="For Kestrel Bank",
    location="Amsterdam or remote in the Netherlands",
    requirements=(
        DemoRequirement(
            "User research", "Plans and runs interviews and usability tests, and acts on them"
        ),
        DemoRequirement(
            "Interaction design", "Designs clear flows for complex tasks such as payments"
        ),
        DemoRequirement(
            "Accessibility", "Designs to WCAG 2.2 AA and checks work with assistive technology"
        ),
        DemoRequirement("Prototyping", "Builds prototypes in Figma that are good enough to test"),
        DemoRequirement(
            "Working with engineers",
            "Hands over designs engineers can build, and adapts them to constraints",
        ),
    ),
)

SERVICE_DESIGNER = DemoJob(
    key="service-designer",
    title="Service Designer",
    team="For the City of Haarlem",
    location="Haarlem (hybrid)",
    requirements=(
        DemoRequirement(
            "Service mapping",
            "Maps a service end to end, front and back stage, across departments",
        ),
        DemoRequirement(
            "User research", "Researches with residents, including hard-to-reach groups"
        ),
        DemoRequirement("Facilitation", "Runs workshops that get departments to agree on changes"),
        DemoRequirement(
            "Plain language", "Writes letters and web content residents understand first time"
        ),
    ),
)


# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------

APPLICATIONS: tuple[DemoApplication, ...] = (
    DemoApplication(
        candidate_name="Tomasz Nowak",
        candidate_email="tomasz.nowak@example.com",
        job="warehouse-operations-supervisor",
        stage="final",
        decided_days_ago=3,
        decision_summary=(
            "Thank you for your time with Alder Logistics, including the site visit on the "
            "night shift. Their operations manager was impressed by how you run a team. They "
            "decided not to make an offer because the role owns the weekly rota for three "
            "shifts, and the planning exercise showed this is newer to you than leading "
            "people on the floor."
        ),
        assessments=(
            DemoAssessment(
                "Team leadership",
                "met",
                "On the site visit you described how you moved a struggling picker to "
                "replenishment and coached her back to target in four weeks.",
            ),
            DemoAssessment(
                "Safety leadership",
                "met",
                "You walked the panel through a near-miss investigation you led, from the "
                "forklift incident to the new one-way route in the chilled area.",
            ),
            DemoAssessment(
                "Shift planning",
                "partly_met",
                "Your rota covered the forecast volume but left Tuesday nights two pickers "
                "short once the planned holidays were added.",
            ),
            DemoAssessment(
                "Warehouse data",
                "met",
                "You read the sample WMS report quickly and spotted that the dock-to-stock "
                "time doubled on days with late inbound trucks.",
            ),
            DemoAssessment(
                "Continuous improvement",
                "partly_met",
                "Your idea to re-slot fast movers nearer the dispatch lanes was sound, but you "
                "had not yet measured the effect of a change like it yourself.",
            ),
        ),
        strengths=(
            DemoStrength(
                "The near-miss story: you fixed the cause (the route), not only the symptom, "
                "and checked a month later that it had held.",
                requirement="Safety leadership",
            ),
            DemoStrength(
                "You spoke about your team by name and knew what each person was working "
                "towards, which the operations manager mentioned twice.",
                requirement="Team leadership",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Building a rota that holds once holidays and absence are added.",
                suggestion=(
                    "Ask your current manager to let you draft next month's rota alongside "
                    "them. Start from the absence calendar, then the forecast, and keep a "
                    "cover buffer per shift; compare your draft with the final version."
                ),
                requirement="Shift planning",
            ),
            DemoGrowthArea(
                "Measuring the effect of an improvement.",
                suggestion=(
                    "Next time you change a process, write down the pick rate or error rate "
                    "for the two weeks before and after. A one-page before-and-after is a "
                    "strong example for your next interview."
                ),
                requirement="Continuous improvement",
            ),
            DemoGrowthArea(
                "Internal: client said they would look at Tomasz again for the team leader "
                "vacancy expected in spring.",
                suggestion="Call Tomasz when Alder confirms the spring headcount.",
                visible=False,
            ),
        ),
        personal_note=(
            "Tomasz, thank you for making the night-shift visit work around your own shifts. "
            "Alder's feedback on your leadership was genuinely warm, and I would like to put "
            "you forward for a team leader role they expect to open in the spring."
            "\n\nKind regards,"
        ),
        pool_invitation_offered=True,
        author="sam.whitfield@harbourline.example",
    ),
    DemoApplication(
        candidate_name="Grace Adeyemi",
        candidate_email="grace.adeyemi@example.com",
        job="management-accountant",
        stage="interview",
        decided_days_ago=12,
        decision_summary=(
            "Thank you for interviewing with Brightwater Foods' finance team. Your close and "
            "reconciliation work was strong. They decided not to move forward because this "
            "role spends much of its time with site managers, and the business partnering "
            "case showed you are more at home with the numbers than with the conversation "
            "about them."
        ),
        assessments=(
            DemoAssessment(
                "Month-end close",
                "met",
                "You described taking your current close from eight working days to five by "
                "moving accrual estimates earlier in the month.",
            ),
            DemoAssessment(
                "Variance analysis",
                "met",
                "In the case you split the margin variance into price, volume and mix, and "
                "found that mix explained most of it.",
            ),
            DemoAssessment(
                "Financial modelling",
                "met",
                "Your model kept inputs, calculations and outputs on separate sheets, with "
                "checks that flagged a broken total.",
            ),
            DemoAssessment(
                "Business partnering",
                "partly_met",
                "When the panel played a site manager pushing back, you repeated the figures "
                "rather than asking what decision they were trying to make.",
            ),
            DemoAssessment(
                "ERP systems",
                "met",
                "You have run month-end in SAP S/4HANA for two years, including the "
                "intercompany reconciliations.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Taking the close from eight days to five is a concrete, measurable "
                "improvement, and you explained exactly how you did it.",
                requirement="Month-end close",
            ),
            DemoStrength(
                "Your price, volume and mix split was the clearest answer to the case the "
                "panel saw.",
                requirement="Variance analysis",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Turning a conversation about numbers into a decision.",
                suggestion=(
                    "Before each meeting with a budget holder, write down the one decision "
                    "they need to make and lead with it. The CIMA 'Business partnering' "
                    "practical guide has good exercises; so does volunteering to present the "
                    "monthly pack to one operational team yourself."
                ),
                requirement="Business partnering",
            ),
        ),
        personal_note=(
            "Grace, thank you for the preparation you put into the case; Brightwater's "
            "financial controller called your variance analysis excellent. I am working on a "
            "group reporting role that suits your strengths very well and will be in touch "
            "this week.\n\nKind regards,"
        ),
        suggested_roles=("Group Reporting Accountant",),
        author="sam.whitfield@harbourline.example",
    ),
    DemoApplication(
        candidate_name="Leila Haddad",
        candidate_email="leila.haddad@example.com",
        job="ux-designer",
        stage="final",
        decided_days_ago=9,
        decision_summary=(
            "Thank you for reaching the final round with Kestrel Bank and for the prototype "
            "you tested with their customers. Your research and interaction design were "
            "strong. The bank decided not to make an offer because the role is the "
            "accessibility lead for the payments app, and your portfolio had less evidence of "
            "testing with assistive technology than the role needs."
        ),
        assessments=(
            DemoAssessment(
                "User research",
                "met",
                "You ran five usability sessions on your prototype and changed the payee "
                "screen after three people missed the same button.",
            ),
            DemoAssessment(
                "Interaction design",
                "met",
                "Your flow for splitting a bill kept each step to one decision and showed "
                "the total at every step.",
            ),
            DemoAssessment(
                "Accessibility",
                "partly_met",
                "Your designs had good contrast and focus states, but you had not yet tested "
                "a flow with a screen reader or with switch access.",
            ),
            DemoAssessment(
                "Prototyping",
                "met",
                "Your Figma prototype was realistic enough that test participants tried to "
                "type their own account numbers.",
            ),
            DemoAssessment(
                "Working with engineers",
                "met",
                "You showed how you changed a date picker after an engineer explained the "
                "native component's limits.",
            ),
        ),
        strengths=(
            DemoStrength(
                "You changed your own design after three of five sessions showed the same "
                "problem, and showed the before and after side by side.",
                requirement="User research",
            ),
            DemoStrength(
                "Your bill-splitting flow was the simplest the panel had seen for that exercise.",
                requirement="Interaction design",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Testing designs with assistive technology, not only checking them against "
                "guidelines.",
                suggestion=(
                    "Complete a flow of your own with VoiceOver or NVDA with the screen off, "
                    "and write up what broke. The free W3C course 'Digital Accessibility "
                    "Foundations' and the GOV.UK Design System's accessibility guidance are "
                    "good places to start; one case study of this kind would fill the gap."
                ),
                requirement="Accessibility",
            ),
        ),
        personal_note=(
            "Leila, thank you for the care you brought to every round; Kestrel's design "
            "lead said your final presentation was the best-structured of the process. You "
            "have also applied for the Service Designer role with the City of Haarlem, and "
            "your research strengths are just as relevant there.\n\nKind regards,"
        ),
        pool_invitation_offered=True,
        author="anouk.devries@harbourline.example",
    ),
    DemoApplication(
        candidate_name="Leila Haddad",
        candidate_email="leila.haddad@example.com",
        job="service-designer",
        stage="interview",
        decided_days_ago=2,
        decision_summary=(
            "Thank you for interviewing with the City of Haarlem's digital team. They valued "
            "your research skills. They decided not to move forward because the role leads "
            "workshops across several departments from the first week, and your examples of "
            "facilitation were with a single product team."
        ),
        assessments=(
            DemoAssessment(
                "User research",
                "met",
                "Your plan for researching the parking permit service included residents "
                "without a smartphone, reached through the library.",
            ),
            DemoAssessment(
                "Service mapping",
                "partly_met",
                "Your blueprint covered the resident's journey well, but the back-office "
                "steps after an application is submitted were missing.",
            ),
            DemoAssessment(
                "Facilitation",
                "not_yet_met",
                "Your workshop examples were with one product team; the role needs someone "
                "who has brought several departments to an agreement.",
            ),
            DemoAssessment(
                "Plain language",
                "met",
                "You rewrote the permit refusal letter in words the panel could follow at "
                "a glance, and kept every legal point in it.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Including residents without a smartphone, and saying how you would reach "
                "them, showed care for the people public services most often miss.",
                requirement="User research",
            ),
            DemoStrength(
                "Your rewritten refusal letter was short, kind and complete.",
                requirement="Plain language",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Mapping what happens behind the scenes.",
                suggestion=(
                    "Pick a service you have worked on and add the back-stage lane to its "
                    "blueprint: who handles each step, which system they use, where work "
                    "waits. 'This Is Service Design Doing' by Stickdorn and colleagues has "
                    "templates for it."
                ),
                requirement="Service mapping",
            ),
            DemoGrowthArea(
                "Facilitating across departments.",
                suggestion=(
                    "Offer to run a retrospective or planning session that brings in a team "
                    "outside your own, such as support or legal. 'Gamestorming' by Gray, "
                    "Brown and Macanufo has formats that work with groups who disagree."
                ),
                requirement="Facilitation",
            ),
        ),
        personal_note=(
            "Leila, thank you for taking on a second process with us in the same month. I "
            "know two decisions close together are hard to receive. I would like to keep "
            "you in mind for design roles with our public-sector clients.\n\nKind regards,"
        ),
        reapply_after_months=6,
        author="anouk.devries@harbourline.example",
    ),
    DemoApplication(
        candidate_name="Rafael Ortiz",
        candidate_email="rafael.ortiz@example.com",
        job="management-accountant",
        stage="screen",
        decided_days_ago=17,
        decision_summary=(
            "Thank you for your screening call about the Brightwater Foods role. We decided "
            "not to put you forward to the client because the role needs a qualified or "
            "nearly qualified management accountant to run the close from day one, and you "
            "are at the start of your CIMA studies."
        ),
        assessments=(
            DemoAssessment(
                "Month-end close",
                "partly_met",
                "You prepare the bank reconciliations at your firm, but the accruals and the "
                "close calendar are owned by your senior.",
            ),
            DemoAssessment(
                "Financial modelling",
                "met",
                "The cash-flow model you described, built for a client's loan application, "
                "had the structure and checks the role needs.",
            ),
            DemoAssessment(
                "ERP systems",
                "not_yet_met",
                "Your experience is with Xero and QuickBooks; the client runs SAP.",
            ),
        ),
        strengths=(
            DemoStrength(
                "Your cash-flow model story was specific: what the lender asked for, how "
                "you structured it, and the check that caught a sign error.",
                requirement="Financial modelling",
            ),
        ),
        growth_areas=(
            DemoGrowthArea(
                "Owning a month-end close.",
                suggestion=(
                    "Ask your senior to let you own the accruals for one client for three "
                    "months, with a review at the end of each close."
                ),
                requirement="Month-end close",
            ),
            DemoGrowthArea(
                "Experience with a larger ERP.",
                suggestion=(
                    "SAP's free learning site has an introductory 'SAP S/4HANA Finance' "
                    "learning journey; finishing it and naming it on your CV shows the "
                    "intent, even before you use it at work."
                ),
                requirement="ERP systems",
            ),
        ),
        personal_note=(
            "Rafael, thank you for an open, well-prepared call. You are on a good path, and a "
            "part-qualified role with study support would suit you now; I will send you two "
            "I think fit.\n\nKind regards,"
        ),
        suggested_roles=("Assistant Management Accountant",),
        pool_invitation_offered=True,
        author="sam.whitfield@harbourline.example",
    ),
)

DRAFTS: tuple[DemoApplication, ...] = (
    DemoApplication(
        candidate_name="Bram Janssen",
        candidate_email="bram.janssen@example.com",
        job="warehouse-operations-supervisor",
        stage="interview",
        decided_days_ago=1,
        state="draft",
        decision_summary=(
            "Thank you for interviewing with Alder Logistics. They decided not to move "
            "forward because the role needs someone who has led a shift team, and your "
            "experience so far is as a senior operator."
        ),
        assessments=(
            DemoAssessment(
                "Warehouse data",
                "met",
                "You explained how you use the pick-rate report to balance work across the "
                "aisles in your zone.",
            ),
            DemoAssessment(
                "Team leadership",
                "not_yet_met",
                "You have trained new starters, but have not yet been responsible for a "
                "team's performance or absence.",
            ),
        ),
        strengths=(),
        growth_areas=(
            DemoGrowthArea(
                "Leading a team, not only training new starters.",
                suggestion=(
                    "Ask to cover for your team leader during their holiday, including the "
                    "start-of-shift briefing and the absence calls."
                ),
                requirement="Team leadership",
            ),
        ),
        personal_note=(
            "Bram, thank you for your time. (Waiting for Alder's notes.)\n\nKind regards,"
        ),
        author="sam.whitfield@harbourline.example",
    ),
)

AWAITING: tuple[DemoAwaiting, ...] = (
    DemoAwaiting(
        candidate_name="Chloé Dubois",
        candidate_email="chloe.dubois@example.com",
        job="ux-designer",
        stage="screen",
        decided_days_ago=1,
    ),
)

STAFF: tuple[DemoStaff, ...] = (
    DemoStaff(
        "Ruth Okonkwo", "ruth.okonkwo@harbourline.example", StaffRole.ADMIN, "Managing Director"
    ),
    DemoStaff(
        "Sam Whitfield",
        "sam.whitfield@harbourline.example",
        StaffRole.RECRUITER,
        "Senior Consultant",
    ),
    DemoStaff(
        "Anouk de Vries", "anouk.devries@harbourline.example", StaffRole.RECRUITER, "Consultant"
    ),
)

AGENCY: DemoOrganization = DemoOrganization(
    name="Harbourline Recruitment",
    slug="harbourline",
    display_name="Harbourline Recruitment",
    accent_colour="#0f5c55",
    reply_promise_days=3,
    jobs=(WAREHOUSE_SUPERVISOR, MANAGEMENT_ACCOUNTANT, UX_DESIGNER, SERVICE_DESIGNER),
    applications=APPLICATIONS + DRAFTS,
    kind="a recruitment agency",
    staff=STAFF,
    awaiting=AWAITING,
    privacy_url="https://harbourline.example/privacy",
    contact_email="candidates@harbourline.example",
)
