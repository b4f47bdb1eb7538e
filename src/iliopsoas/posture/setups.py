"""The scenarios as data: which coordinates are free, how they move together, what rests on what.

Contact points and soft-tissue radii are our estimates of where bone plus soft tissue meets the
support, read off the model's frames and bone meshes (no paper gives them); they are listed here
so they can be reviewed.

* ``supine`` -- lying on the back, legs straight. Free: pelvis tilt and height, lumbar
  flexion/extension (Christophy rhythm), both hips' flexion and rotation. Supports: sacrum,
  upper back, lower thorax (:data:`LOWER_THORAX_CONTACT`), the low back over L3 (touching only
  if the lordosis flattens onto the table), back of each thigh, calf and heel.
* ``standing`` -- both feet on the floor side by side, the ankles held in place (pin), the knees
  straight (:data:`STANDING_KNEE_DEG`, the usual locked knee of quiet standing); free: pelvis tilt,
  lumbar spine and hips (both legs together, in the sagittal plane). The ankle torque keeps the
  centre of mass of the body above the ankles :data:`COM_ANTERIOR_TO_ANKLE_M` in front of the
  ankle (the balance condition); lumbar spine and hips are held by gravity, passive tissue and the
  least postural muscle torque that balances them (zero where passive tissue suffices).
* ``sitting`` -- on a seat without a backrest, knees at 90 deg, feet on the floor. Free: pelvis
  tilt and height, lumbar spine, both hips. Supports: ischial tuberosities and thighs on the seat,
  heels on the floor. The pelvis rolls on the ischia (passively); the trunk is balanced with the
  least postural muscle torque at the lumbar spine and hips (zero where passive tissue holds it).
* ``thomas`` -- modified Thomas test as performed: lying back at the end of the table, the other
  knee pulled to the chest by the hands until the low back lies flat: a torque between that thigh
  and the trunk (the multiplier), solved so that a point over the L3 spinous process just touches
  the table (:data:`LUMBAR_CONTACT`). The pelvis, the held hip and the hanging leg's hip flexion,
  knee flexion and hip ab/adduction are solved together; supports: sacrum, upper back and lower
  thorax (:data:`LOWER_THORAX_CONTACT`), and the low back over L3 (:data:`LUMBAR_CONTACT`). The held
  hip may flex to 140 deg (pulled to the chest it ends near 130 deg, held there by its capsule).
* ``prone`` -- lying face down, hips free in flexion; supported at the anterior superior iliac
  spines, chest, front of each thigh, knee and shin.
"""

from __future__ import annotations

import math

from iliopsoas.posture.equilibrium import ANKLE_POINT, Constraint, Contact, Pin, Setup

R = math.radians

#: Balance condition when standing: the centre of gravity of the body above the ankles lies this
#: far (m) in front of the ankle joints. Derived from Woodhull, Maxwell & Winter 1985 (Eur J Appl
#: Physiol 54:109-115; 15 adults on a reaction board): the centre of gravity above the knee lies
#: 1.4 cm in front of the knee and the knee 3.8 cm in front of the ankle, i.e. 5.2 cm in front of
#: the ankle; with the shanks (their centre of mass about 1.9 cm in front of the ankle, 2 x 3.7 kg
#: of 72 kg above the ankles in the model) the whole body above the ankles lies 4.9 cm in front.
COM_ANTERIOR_TO_ANKLE_M = 0.049

#: Knee angle when standing (deg): straight, at the knee's passive extension stop.
STANDING_KNEE_DEG = 0.0

#: Where the hands pull the held knee until the back is flat in the Thomas test: a sphere over
#: the L3 spinous process (tip at x = -0.058 m of lumbar3.vtp) with 15 mm of soft tissue (our estimate).
LUMBAR_CONTACT = Contact("lumbar_l3", "lumbar3", (-0.058, 0.0, 0.0), radius=0.015)

#: The lower thorax lying on the table (supine): a sphere over the T11/T12 spinous processes, 3 cm
#: above the T12/L1 joint centre (torso frame, y = 0.1154 m) at the L3 spinous-tip depth (5.8 cm behind
#: the joint centre, x = -0.0129 m), with 15 mm of soft tissue (our estimate, as LUMBAR_CONTACT).
#: Without it the torso pivots on the upper back and its lower end sinks 3 cm into the table.
LOWER_THORAX_CONTACT = Contact("lower_thorax", "torso", (-0.071, 0.145, 0.0), radius=0.015)

#: Knee angle of the leg held to the chest in the Thomas test (deg; our choice, the knee bent).
THOMAS_HELD_KNEE_DEG = 110.0

#: Seat and floor when sitting: heels 0.44 m below the seat (a seat at knee height).
SEAT_FLOOR_DROP_M = 0.44

#: Where postural muscle torques are minimised (standing, sitting) the passive joints are solved to
#: 0.01 N m: the least-effort optimum is flat, and this is 300 times below the torques involved.
BALANCE_TOLERANCE_NM = 0.01

BODIES = ("sacrum", "innominate_r", "innominate_l", "lumbar5", "lumbar4", "lumbar3", "lumbar2", "lumbar1", "torso",
          "femur_r", "tibia_r", "patella_r", "femur_l", "tibia_l", "patella_l")

def _legs_supine(s: str) -> tuple[Contact, ...]:
    return (
        Contact(f"thigh_{s}", f"femur_{s}", (0.0, -0.12, 0.0), radius=0.115),
        Contact(f"calf_{s}", f"tibia_{s}", (-0.02, -0.12, 0.0), radius=0.095),
        # the heel rolls: a sphere centred on the shank's long axis (ankle centre line, Rajagopal 2016
        # ankle at x = -0.01 m)
        Contact(f"heel_{s}", f"tibia_{s}", (-0.01, -0.44, 0.0), radius=0.105),
    )


def _mirror_z(p: tuple[float, float, float], s: str) -> tuple[float, float, float]:
    return (p[0], p[1], p[2] if s == "r" else -p[2])


def build(torso_ratio: float) -> dict[str, Setup]:
    """Every scenario's :class:`Setup`; ``torso_ratio`` is d(torso angle)/d(L5_S1_flex_ext) of the model.

    In the Thomas test the held thigh is clasped to the trunk: its angle to the torso stays
    fixed, so lumbar flexion and the held hip's flexion move together (``torso_ratio`` : 1).
    """
    supine_contacts = (
        Contact("sacrum", "sacrum", (-0.17, -0.02, 0.0), radius=0.015),
        Contact("upper_back", "torso", (-0.03, 0.34, 0.0), radius=0.06),
        *_legs_supine("r"), *_legs_supine("l"),
        LOWER_THORAX_CONTACT, LUMBAR_CONTACT,
    )
    out = {
        "supine": Setup(
            name="supine",
            q0={"pelvis_tilt": R(90.0)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_rotation_r",
                  "hip_flexion_l", "hip_rotation_l"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
                   {"hip_rotation_r": 1.0}, {"hip_flexion_l": 1.0}, {"hip_rotation_l": 1.0}),
            z_lo=(R(-40), 0.05, R(-11), R(-45), R(-40), R(-45), R(-40)),
            z_hi=(R(40), 0.35, R(3.5), R(60), R(40), R(60), R(40)),
            z_init=(0.0, 0.17, 0.0, 0.0, 0.0, 0.0, 0.0),
            contacts=supine_contacts,
        ),
        "standing": Setup(
            name="standing",
            q0={"knee_angle_r": R(STANDING_KNEE_DEG), "knee_angle_l": R(STANDING_KNEE_DEG)},
            free=("pelvis_tilt", "L5_S1_flex_ext", "hip_flexion"),
            basis=({"pelvis_tilt": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0, "hip_flexion_l": 1.0}),
            z_lo=(R(-35), R(-11), R(-25)),
            z_hi=(R(35), R(3.5), R(60)),
            z_init=(0.0, 0.0, 0.0),
            feet=(),  # the feet stand on the floor: their weight does not load the joints above the ankle
            pin=Pin("tibia_r", ANKLE_POINT),
            constraint=Constraint("com_over_pin", "ankle_torque", torque_body="tibia_r",
                                  offset=COM_ANTERIOR_TO_ANKLE_M),
            effort=("L5_S1_flex_ext", "hip_flexion"),
            tolerance=BALANCE_TOLERANCE_NM,
        ),
        "sitting": Setup(
            name="sitting",
            q0={"knee_angle_r": R(90), "knee_angle_l": R(90), "hip_flexion_r": R(90), "hip_flexion_l": R(90)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
                   {"hip_flexion_l": 1.0}),
            z_lo=(R(-40), 0.0, R(-11), R(-40), R(-40)),
            z_hi=(R(40), 0.4, R(3.5), R(40), R(40)),
            z_init=(0.0, 0.16, 0.0, 0.0, 0.0),
            contacts=tuple(
                c for s in ("r", "l") for c in (
                    Contact(f"ischium_{s}", f"innominate_{s}", _mirror_z((-0.105, -0.115, 0.045), s), radius=0.015),
                    Contact(f"thigh_{s}", f"femur_{s}", (0.0, -0.25, 0.0), radius=0.07),
                    Contact(f"heel_{s}", f"tibia_{s}", _mirror_z((-0.01, -0.44, 0.0), s), height=-SEAT_FLOOR_DROP_M,
                            radius=0.0),
                )),
            mode="root",
            effort=("L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l"),
            tolerance=BALANCE_TOLERANCE_NM,
        ),
        "prone": Setup(
            name="prone",
            q0={"pelvis_tilt": R(-90.0)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
                   {"hip_flexion_l": 1.0}),
            z_lo=(R(-30), 0.0, R(-11), R(-25), R(-25)),
            z_hi=(R(30), 0.30, R(3.5), R(50), R(50)),
            z_init=(0.0, 0.05, 0.0, 0.0, 0.0),
            contacts=(
                Contact("asis_r", "innominate_r", (0.0, 0.018, 0.11), radius=0.02),
                Contact("asis_l", "innominate_l", (0.0, 0.018, -0.11), radius=0.02),
                Contact("chest", "torso", (0.09, 0.30, 0.0), radius=0.05),
                Contact("thigh_r", "femur_r", (0.0, -0.25, 0.0), radius=0.07),
                Contact("thigh_l", "femur_l", (0.0, -0.25, 0.0), radius=0.07),
                Contact("knee_r", "femur_r", (0.0, -0.40, 0.0), radius=0.05),
                Contact("knee_l", "femur_l", (0.0, -0.40, 0.0), radius=0.05),
                Contact("shin_r", "tibia_r", (0.02, -0.38, 0.0), radius=0.04),
                Contact("shin_l", "tibia_l", (0.02, -0.38, 0.0), radius=0.04),
            ),
        ),
    }
    for s in ("r", "l"):
        o = "l" if s == "r" else "r"
        out[f"thomas_{s}"] = Setup(
            name=f"thomas_{s}",
            q0={"pelvis_tilt": R(90.0), f"knee_angle_{o}": R(THOMAS_HELD_KNEE_DEG)},
            free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", f"hip_flexion_{o}", f"hip_flexion_{s}",
                  f"knee_angle_{s}", f"hip_adduction_{s}"),
            basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {f"hip_flexion_{o}": 1.0},
                   {f"hip_flexion_{s}": 1.0}, {f"knee_angle_{s}": 1.0}, {f"hip_adduction_{s}": 1.0}),
            z_lo=(R(-40), 0.05, R(-11), R(20), R(-50), R(0), R(-45)),
            z_hi=(R(40), 0.35, R(3.5), R(140), R(40), R(120), R(20)),
            z_init=(R(10), 0.17, R(-3), R(90), R(-10), R(60), R(-5)),
            contacts=(*supine_contacts[:2], LOWER_THORAX_CONTACT),
            constraint=Constraint("touch", "hug_torque", torque_body=f"femur_{o}", torque_from="torso",
                                  contact=LUMBAR_CONTACT),
            # the hands carry the held leg's weight (it loads the arms, i.e. the torso, not the hip)
            gravity_bodies=tuple(b for b in BODIES if b not in (f"femur_{o}", f"tibia_{o}", f"patella_{o}")),
            feet=(s,),
        )
    sup = out["supine"]
    out["supine_knee_support"] = Setup(
        name="supine_knee_support",
        q0=sup.q0,
        free=("pelvis_tilt", "pelvis_ty", "L5_S1_flex_ext", "hip_flexion_r", "hip_flexion_l", "knee_angle_r",
              "knee_angle_l"),
        basis=({"pelvis_tilt": 1.0}, {"pelvis_ty": 1.0}, {"L5_S1_flex_ext": 1.0}, {"hip_flexion_r": 1.0},
               {"hip_flexion_l": 1.0}, {"knee_angle_r": 1.0}, {"knee_angle_l": 1.0}),
        z_lo=(R(-40), 0.05, R(-11), R(-45), R(-45), R(0), R(0)),
        z_hi=(R(30), 0.35, R(3.5), R(75), R(75), R(110), R(110)),
        z_init=(0.0, 0.19, 0.0, R(5), R(5), R(5), R(5)),
        contacts=(
            sup.contacts[0], sup.contacts[1], LOWER_THORAX_CONTACT, LUMBAR_CONTACT,
            Contact("knee_support_r", "femur_r", (0.0, -0.36, 0.0), radius=0.06),
            Contact("knee_support_l", "femur_l", (0.0, -0.36, 0.0), radius=0.06),
            Contact("heel_r", "tibia_r", (-0.045, -0.44, 0.01), radius=0.07),
            Contact("heel_l", "tibia_l", (-0.045, -0.44, -0.01), radius=0.07),
        ),
    )
    return out
